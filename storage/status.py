"""The read side of `status` (runs, counts per state, next due work) and `history URL`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, case, func, or_, select

from linkfresh.storage.claims import round_status
from linkfresh.storage.engine import Db, reading
from linkfresh.storage.guide_links import is_checked_place, is_due
from linkfresh.storage.lock import LockHeld, current_holder
from linkfresh.storage.models import GuideRow, Occurrence, Resource, ResultRow, RunRow
from linkfresh.storage.values import (
    GuideSummary,
    HistoryEntry,
    LinkHistory,
    Place,
    RunSummary,
    StatusSummary,
    link_from,
)

R, OCC, G, C = (Resource.__table__, Occurrence.__table__, GuideRow.__table__,
                ResultRow.__table__)


def recent_runs(conn: Connection, limit: int = 10) -> tuple[RunSummary, ...]:
    rows = conn.execute(select(RunRow.__table__).order_by(RunRow.started_at.desc(),
                                                          RunRow.id.desc()).limit(limit))
    return tuple(RunSummary(row.id, row.kind, row.started_at, row.finished_at, row.outcome,
                            dict(row.counts or {}), row.pid, row.note) for row in rows)


def status_summary(db: Db, now: datetime, recheck_after: timedelta, *,
                   runs: int = 10) -> StatusSummary:
    """Last runs, links per state (links still in a guide), and what the next check will do."""
    active = select(OCC.c.resource_id).where(is_checked_place()).distinct().subquery()
    with reading(db) as conn:
        verdicts = dict(conn.execute(
            select(R.c.verdict, func.count()).join(active, active.c.resource_id == R.c.id)
            .group_by(R.c.verdict).order_by(R.c.verdict)).all())
        due_now = conn.execute(
            select(func.count()).select_from(R).join(active, active.c.resource_id == R.c.id)
            .where(is_due(now, recheck_after))
        ).scalar_one()
        oldest = conn.execute(
            select(func.min(R.c.last_checked)).join(active, active.c.resource_id == R.c.id)
        ).scalar_one()
        guides = tuple(
            GuideSummary(name, synced, int(live or 0), int(total - (live or 0)))
            for name, synced, live, total in conn.execute(
                select(G.c.name, G.c.synced_at,
                       func.sum(case((OCC.c.retired_at.is_(None), 1), else_=0)),
                       func.count(OCC.c.id))
                .outerjoin(OCC, OCC.c.guide_id == G.c.id).group_by(G.c.id).order_by(G.c.name)))
        last_runs = recent_runs(conn, runs)
    holder = current_holder(db)
    return StatusSummary(
        runs=last_runs, verdicts={str(k): int(v) for k, v in verdicts.items()}, guides=guides,
        due_now=int(due_now),
        next_due_at=None if due_now or oldest is None else oldest + recheck_after,
        lock_holder=str(LockHeld(holder)) if holder else None,
        round=round_status(db, recheck_after),
    )


def find_resource(conn: Connection, url: str) -> tuple[int, str] | None:
    """The resource for `url`: its normalised URL, else a URL as written or its target."""
    row = conn.execute(select(R.c.id, R.c.url).where(R.c.url == url)).first()
    if row is None:
        row = conn.execute(
            select(R.c.id, R.c.url).join(OCC, OCC.c.resource_id == R.c.id)
            .where(or_(OCC.c.written_url == url, OCC.c.target == url)).order_by(R.c.id)).first()
    return None if row is None else (row.id, row.url)


def link_history(db: Db, url: str) -> LinkHistory | None:
    """What the database knows about one link: its state, places, and stored checks."""
    with reading(db) as conn:
        found = find_resource(conn, url)
        if found is None:
            return None
        rid, canonical = found
        res = conn.execute(select(R).where(R.c.id == rid)).one()
        places = tuple(
            Place(link_from(canonical, row.guide_name, row), row.first_seen, row.retired_at)
            for row in conn.execute(
                select(OCC, G.c.name.label("guide_name")).join(G, G.c.id == OCC.c.guide_id)
                .where(OCC.c.resource_id == rid)
                .order_by(OCC.c.retired_at.is_not(None), G.c.name, OCC.c.line)))
        entries = tuple(
            HistoryEntry(row.checked_at, row.state, row.verdict, row.previous, row.event,
                         row.status, row.error, row.final_url)
            for row in conn.execute(select(C).where(C.c.resource_id == rid)
                                    .order_by(C.c.checked_at, C.c.id)))
    return LinkHistory(
        url=canonical, verdict=res.verdict, since=res.since, failures=res.failures,
        failing_since=res.failing_since, last_checked=res.last_checked, last_ok=res.last_ok,
        final_url=res.last_final_url, title=res.title, etag=res.etag,
        last_modified=res.last_modified, content_changed_at=res.content_changed_at,
        places=places, entries=entries)
