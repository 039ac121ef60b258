"""A guide's link occurrences in the database, and what the next check should fetch.

Removed links are retired (history kept); re-added ones come back with their history.
"""

from __future__ import annotations

import hashlib
import pickle
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from linkfresh.collector.guide.unwrap import host_of
from linkfresh.collector.types import CheckResult, Guide, Link, LinkKind, Validators
from linkfresh.storage.engine import Db, session_scope
from linkfresh.storage.models import GuideRow, Occurrence, Resource, ResultRow
from linkfresh.storage.state import Verdict
from linkfresh.storage.values import result_from

T = TypeVar("T")

# Failing links are rechecked on every run, whatever `recheck_after` says: the sooner the
# second failure is seen, the sooner it is confirmed (or cleared).
ALWAYS_DUE = (Verdict.NEW, Verdict.FAILING, Verdict.BROKEN, Verdict.FLAPPING)


def is_due(as_of: datetime, recheck_after: timedelta) -> ColumnElement[bool]:
    """The rule of what a check fetches, in SQL over `resource`: never checked, failing,
    broken or flapping, or last checked at least `recheck_after` before `as_of`."""
    res = Resource.__table__
    return or_(res.c.verdict.in_([verdict.value for verdict in ALWAYS_DUE]),
               res.c.last_checked.is_(None), res.c.last_checked <= as_of - recheck_after)


def is_checked_place() -> ColumnElement[bool]:
    """An occurrence that gets checked: still in its guide, an http link, not disabled."""
    occ = Occurrence.__table__
    return and_(occ.c.retired_at.is_(None), occ.c.kind == LinkKind.HTTP.value,
                occ.c.disabled.is_(False))


@dataclass(frozen=True, slots=True)
class SyncSummary:
    guide: str
    added: int
    revived: int
    retired: int
    kept: int
    diffed: bool = True  # False when the links were as last synced (nothing rewritten)


def ensure_resources(session: Session, urls: Iterable[str], now: datetime) -> dict[str, int]:
    """Resource ids for `urls`, creating the missing rows."""
    wanted = sorted(set(urls))
    ids: dict[str, int] = {}
    for chunk in in_chunks(wanted):
        rows = session.execute(select(Resource.url, Resource.id).where(Resource.url.in_(chunk)))
        ids.update({url: id_ for url, id_ in rows})
    missing = [url for url in wanted if url not in ids]
    if missing:
        # RETURNING, not a second look-up: right after a bulk insert PostgreSQL's planner
        # still takes the table for empty and scans it for each chunk of a look-up.
        table = Resource.__table__
        ids.update(session.execute(
            insert(table).returning(table.c.url, table.c.id),
            [{"url": url, "first_seen": now, "flips": [], "host": host_of(url)}
             for url in missing]).all())
    return ids


def sync_guide(db: Db, guide: Guide, now: datetime) -> SyncSummary:
    """Make the stored occurrences of `guide` match its links as parsed now.

    Written with SQL statements rather than ORM objects: a guide of 10,000 links is synced
    on every run, and loading and diffing 10,000 ORM rows took about a second.
    """
    table = Occurrence.__table__
    digest = links_digest(guide.links)
    with session_scope(db) as session:
        row = session.scalars(select(GuideRow).where(GuideRow.name == guide.path)).one_or_none()
        if row is None:
            row = GuideRow(name=guide.path, title=guide.title)
            session.add(row)
            session.flush()
        row.title, row.synced_at = guide.title, now
        if row.links_digest == digest:
            # The links are as last synced (most runs): only `last_seen` moves.
            kept = session.execute(update(table).where(
                table.c.guide_id == row.id, table.c.retired_at.is_(None)).values(last_seen=now))
            return SyncSummary(guide.path, 0, 0, 0, int(kept.rowcount or 0), diffed=False)
        row.links_digest = digest
        ids = ensure_resources(session, (link.url for link in guide.links), now)
        described = [table.c[name] for name in _DESCRIBED]
        existing = {
            (occ.resource_id, occ.written_url, occ.seq): occ
            for occ in session.execute(
                select(table.c.id, table.c.resource_id, table.c.written_url, table.c.seq,
                       table.c.retired_at, *described).where(table.c.guide_id == row.id))
        }
        seen: Counter[tuple[int, str]] = Counter()
        inserts: list[dict[str, object]] = []
        updates: list[dict[str, object]] = []
        unchanged: list[int] = []
        revived = kept = 0
        for link in guide.links:
            resource_id = ids[link.url]
            seq = seen[(resource_id, link.written_url)]
            seen[(resource_id, link.written_url)] += 1
            found = existing.pop((resource_id, link.written_url, seq), None)
            if found is None:
                inserts.append({"guide_id": row.id, "resource_id": resource_id, "seq": seq,
                                "written_url": link.written_url, "first_seen": now,
                                "retired_at": None, **_described(link, now)})
                continue
            values = _described(link, now)
            if found.retired_at is not None:
                revived += 1
            else:
                kept += 1
                # Most runs change nothing in the guide: only `last_seen` moves, in bulk.
                if all(found._mapping[name] == values[name] for name in _DESCRIBED):
                    unchanged.append(found.id)
                    continue
            updates.append({"occ_id": found.id, "retired_at": None, **values})
        for chunk in in_chunks(unchanged):
            session.execute(update(table).where(table.c.id.in_(chunk)).values(last_seen=now))
        if inserts:
            session.execute(insert(table), inserts)
        if updates:
            columns = [name for name in updates[0] if name != "occ_id"]
            session.execute(
                update(table).where(table.c.id == bindparam("occ_id"))
                .values({name: bindparam(name) for name in columns}),
                updates,
            )
        to_retire = [occ.id for occ in existing.values() if occ.retired_at is None]
        for chunk in in_chunks(to_retire):
            session.execute(update(table).where(table.c.id.in_(chunk)).values(retired_at=now))
    return SyncSummary(guide.path, len(inserts), revived, len(to_retire), kept)


def links_digest(links: Iterable[Link]) -> str:
    """A hash of everything `sync_guide` stores about `links`, in their order.

    Hashed pickled (0.01 s for 10,000 links; their repr took 0.05 s, on every recorded run).
    Another Python may pickle differently: the guide is then diffed once, finding no change.
    """
    stored = [_STORED_FIELDS(link) for link in links]
    return hashlib.sha256(pickle.dumps(stored, protocol=5)).hexdigest()


# The columns of an occurrence that follow the guide as written (`last_seen` aside), each
# named as the `Link` field it is written from.
_DESCRIBED = ("target", "text", "line", "section", "kind", "source", "unwrapped_by", "flags",
              "disabled")
_STORED_FIELDS = attrgetter("url", "written_url", *_DESCRIBED)


def _described(link: Link, now: datetime | None) -> dict[str, object]:
    """The columns of an occurrence that follow the guide as written now."""
    return {
        "target": link.target, "text": link.text, "line": link.line,
        "section": list(link.section), "kind": str(link.kind), "source": str(link.source),
        "unwrapped_by": list(link.unwrapped_by), "flags": list(link.flags),
        "disabled": link.disabled, "last_seen": now,
    }


def validators(db: Db, urls: Iterable[str]) -> dict[str, Validators]:
    """Stored ETag / Last-Modified per URL (only URLs that have one)."""
    found: dict[str, Validators] = {}
    with session_scope(db) as session:
        for chunk in in_chunks(sorted(set(urls))):
            rows = session.execute(
                select(Resource.url, Resource.etag, Resource.last_modified)
                .where(Resource.url.in_(chunk))
                .where(or_(Resource.etag.is_not(None), Resource.last_modified.is_not(None)))
            )
            found.update({url: Validators(etag, modified) for url, etag, modified in rows})
    return found


def last_elapsed(db: Db, urls: Iterable[str]) -> dict[str, float]:
    """Seconds each URL's latest check took (URLs never checked are absent)."""
    found: dict[str, float] = {}
    with session_scope(db) as session:
        for chunk in in_chunks(sorted(set(urls))):
            rows = session.execute(
                select(Resource.url, ResultRow.elapsed_ms)
                .join(ResultRow, ResultRow.id == Resource.latest_result_id)
                .where(Resource.url.in_(chunk))
            )
            found.update({url: (elapsed or 0) / 1000 for url, elapsed in rows})
    return found


def in_chunks(items: list[T], size: int = 500) -> Iterable[list[T]]:
    # Stay well below the bound-parameter limits of every backend (SQLite: 32766).
    for start in range(0, len(items), size):
        yield items[start : start + size]


def latest_results(db: Db, urls: Iterable[str]) -> dict[str, CheckResult]:
    """The latest stored result per URL (URLs never checked are absent)."""
    found: dict[str, CheckResult] = {}
    with session_scope(db) as session:
        for chunk in in_chunks(sorted(set(urls))):
            rows = session.execute(
                select(Resource.url, ResultRow)
                .join(ResultRow, ResultRow.id == Resource.latest_result_id)
                .where(Resource.url.in_(chunk))
            )
            found.update({url: result_from(url, row) for url, row in rows})
    return found


def answered_hosts(db: Db) -> set[str]:
    """Hosts with a link that answered when last checked: the network-down yardstick."""
    with session_scope(db) as session:
        # `host` is stored with each resource (`host_of` its URL): no URL is parsed here.
        hosts = session.scalars(select(Resource.host).distinct()
                                .where(Resource.last_ok.is_not(None)))
        return {host for host in hosts if host}
