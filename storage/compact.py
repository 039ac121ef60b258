"""Keeping the SQLite file near its live size: a full VACUUM once a week, after thinning.

Incremental auto-vacuum returns free pages, but deletes also leave half-empty index pages
that only a rebuild reclaims (the storage benchmark: 117 MB as written vs 95 MB vacuumed
after a simulated year). A weekly VACUUM, run by the lock holder, bounds that slack.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from linkfresh.storage.engine import session_scope
from linkfresh.storage.models import Meta

VACUUM_EVERY = timedelta(days=7)
LAST_VACUUM_KEY = "last_vacuum"


def vacuum_if_due(engine: Engine, now: datetime, every: timedelta = VACUUM_EVERY) -> bool:
    """VACUUM an SQLite database if the last one is older than `every`; True if it ran.

    Other backends manage their own space: nothing happens there. Call it outside any
    transaction, holding the run lock (VACUUM briefly needs the database to itself).
    """
    if engine.url.get_backend_name() != "sqlite":
        return False
    with session_scope(engine) as session:
        row = session.get(Meta, LAST_VACUUM_KEY)
        if row is not None and datetime.fromisoformat(row.value) > now - every:
            return False
    raw = engine.raw_connection()
    try:
        # VACUUM cannot run inside a transaction; executescript runs it on its own.
        raw.driver_connection.executescript("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
    finally:
        raw.close()
    with session_scope(engine) as session:
        session.merge(Meta(name=LAST_VACUUM_KEY, value=now.isoformat()))
    return True
