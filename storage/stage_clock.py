"""What the scheduler needs to remember: when each stage last ran, and the daemon's heartbeat.

Kept in our own tables (`run`, `meta`), never in APScheduler's job store.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from linkfresh.storage.engine import Db, session_scope
from linkfresh.storage.models import Meta, RunRow

HEARTBEAT_KEY = "daemon.heartbeat"
# A stage counts as done only when it succeeded: a failed, interrupted or offline one stays
# due, so the next hourly `run` (or the daemon's restart) tries it again.
DONE_OUTCOMES = ("ok",)


def last_done(db: Db, kind: str, outcomes: tuple[str, ...] = DONE_OUTCOMES) -> datetime | None:
    """When the last run of `kind` that reached an end started (None if never)."""
    with session_scope(db) as session:
        return session.scalar(
            select(func.max(RunRow.started_at)).where(RunRow.kind == kind,
                                                      RunRow.outcome.in_(outcomes))
        )


def write_heartbeat(db: Db, beat: dict[str, Any]) -> None:
    """Store the daemon's heartbeat (pid, time, jobs with last and next run) as JSON."""
    value = json.dumps(beat, sort_keys=True)
    # The write comes first in its transaction: a read first (as `merge` does) would pin a
    # snapshot, and SQLite fails a later write at once ("database is locked", no busy wait)
    # when a stage committed in between.
    with session_scope(db) as session:
        changed = session.execute(update(Meta).where(Meta.name == HEARTBEAT_KEY)
                                  .values(value=value))
        if not changed.rowcount:
            session.add(Meta(name=HEARTBEAT_KEY, value=value))


def read_heartbeat(db: Db) -> dict[str, Any] | None:
    with session_scope(db) as session:
        row = session.get(Meta, HEARTBEAT_KEY)
        return None if row is None else dict(json.loads(row.value))
