"""Page references for content drift: taken at a link's first good check, compared by the
check stage, listed by the digest while a page counts as changed, replaced by `accept`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from linkfresh.collector.types import CheckResult, LinkState
from linkfresh.storage.engine import Db, reading, session_scope
from linkfresh.storage.models import PageReference, Resource
from linkfresh.storage.state import Verdict
from linkfresh.storage.values import StoredPage

P, R = PageReference.__table__, Resource.__table__
# Results whose page says what the link is now (a failure says nothing about its content).
_ANSWERED = (LinkState.OK, LinkState.REDIRECTED, LinkState.CHANGED)


def _has_page(result: CheckResult) -> bool:
    return result.state in _ANSWERED and (result.title is not None
                                          or result.text_length is not None)


def page_references(db: Db, urls: Iterable[str]) -> dict[str, StoredPage]:
    """The stored reference (and current drift) per URL; URLs without one are absent."""
    wanted = sorted(set(urls))
    found: dict[str, StoredPage] = {}
    # Only the columns judged: the dates would each be parsed back from text, for nothing.
    columns = (R.c.url, P.c.title, P.c.heading, P.c.text_length, P.c.wall, P.c.drift)
    with reading(db) as conn:
        for start in range(0, len(wanted), 500):
            rows = conn.execute(select(*columns).join(P, P.c.resource_id == R.c.id)
                                .where(R.c.url.in_(wanted[start:start + 500])))
            found.update({url: StoredPage(*page) for url, *page in rows})
    return found


def record_pages(session: Session, results: Sequence[tuple[int, CheckResult]]) -> None:
    """Store what each answered page is now; the first one of a resource is its reference.

    A changed result keeps its reason as `drift` (dated from the first such check); any
    other answer clears it. Results without a page (a 304, a PDF) change nothing.
    """
    latest = {rid: result for rid, result in results if _has_page(result)}
    if not latest:
        return
    existing = {row.resource_id: row for row in session.execute(
        select(P.c.resource_id, P.c.drift, P.c.drifted_at)
        .where(P.c.resource_id.in_(sorted(latest))))}
    inserts, updates = [], []
    for rid, result in latest.items():
        now = {"now_title": result.title, "now_heading": result.heading,
               "now_text_length": result.text_length, "now_wall": result.wall,
               "seen_at": result.checked_at}
        changed = result.state is LinkState.CHANGED
        row = existing.get(rid)
        if row is None:
            inserts.append({"resource_id": rid, "title": result.title, "heading": result.heading,
                            "text_length": result.text_length, "wall": result.wall,
                            "taken_at": result.checked_at, "drift": None, "drifted_at": None,
                            **now})
            continue
        drifted_at = (row.drifted_at or result.checked_at) if changed else None
        updates.append({"rid": rid, "drift": result.detail if changed else None,
                        "drifted_at": drifted_at, **now})
    if inserts:
        session.execute(insert(P), inserts)
    if updates:
        session.execute(update(P).where(P.c.resource_id == bindparam("rid"))
                        .values({k: bindparam(k) for k in updates[0] if k != "rid"}), updates)


def accept_page(db: Db, resource_id: int, now: datetime) -> StoredPage | None:
    """Make the page as last seen the reference of `resource_id`; a changed link is ok again
    and is checked by the next `check`.

    Returns the new reference, or None when the link never answered with a page.
    """
    with session_scope(db) as session:
        row = session.execute(select(P).where(P.c.resource_id == resource_id)).first()
        if row is None:
            return None
        session.execute(update(P).where(P.c.resource_id == resource_id).values(
            title=row.now_title, heading=row.now_heading, text_length=row.now_text_length,
            wall=row.now_wall, taken_at=now, drift=None, drifted_at=None))
        session.execute(update(R).where(R.c.id == resource_id,
                                        R.c.verdict == Verdict.CHANGED.value)
                        .values(verdict=Verdict.OK.value, since=now))
        # Due at the next check, whatever `recheck_after_hours` says: until it is checked
        # again, its latest stored result still says "changed".
        session.execute(update(R).where(R.c.id == resource_id).values(last_checked=None))
        return StoredPage(row.now_title, row.now_heading, row.now_text_length, row.now_wall)
