"""What one collect or digest leaves for the next: each blog source's feed URL and validators,
Web Archive answers per URL, and arXiv papers suggested for resources named without a link.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from linkfresh.collector.news.outcomes import SourceKind, SourceOutcome, SourceStatus
from linkfresh.collector.types import FeedState
from linkfresh.storage.engine import Db, session_scope
from linkfresh.storage.models import ArchiveSnapshot, ResourceSuggestion, SourceState

if TYPE_CHECKING:  # only the types: collector.check.wayback brings httpx; storage never loads it
    from linkfresh.collector.check.wayback import ArchiveLookup
    from linkfresh.collector.news.named_resources import ResourceMatch

# Keep IN (...) lists well under SQLite's host-parameter limit.
_CHUNK = 500

Snapshot = tuple[str | None, datetime | None]
"""A cached archive answer: (snapshot URL, captured at), both None when there is no copy."""


def _upsert(session: Session, model: Any, key: str, rows: Mapping[str, dict[str, Any]]) -> None:
    """Insert or update `model` rows by their unique `key` column (portable: no ON CONFLICT)."""
    column = getattr(model, key)
    keys = list(rows)
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        existing = {getattr(row, key): row
                    for row in session.scalars(select(model).where(column.in_(chunk)))}
        for name in chunk:
            row = existing.get(name)
            if row is None:
                session.add(model(**{key: name, **rows[name]}))
            else:
                for field, value in rows[name].items():
                    setattr(row, field, value)


def load_feed_states(db: Db) -> dict[str, FeedState]:
    """What the last successful pull of each blog source learned, by source name."""
    with session_scope(db) as session:
        return {row.source: FeedState(row.url, row.etag, row.last_modified)
                for row in session.scalars(select(SourceState))}


def save_feed_states(db: Db, outcomes: Iterable[SourceOutcome], now: datetime) -> int:
    """Remember the URL read and the validators of every feed that answered (200 or 304).

    A failed source keeps what its last good pull stored, so the next run still sends its
    validators. Returns how many sources were saved.
    """
    rows = {
        outcome.source: {"url": outcome.url, "etag": outcome.etag,
                         "last_modified": outcome.last_modified, "updated_at": now}
        for outcome in outcomes
        if outcome.kind is SourceKind.FEED and outcome.status is not SourceStatus.FAILED
    }
    with session_scope(db) as session:
        _upsert(session, SourceState, "source", rows)
    return len(rows)


def cached_snapshots(db: Db, urls: Iterable[str], now: datetime,
                     max_age: timedelta) -> dict[str, Snapshot]:
    """Archive answers looked up within `max_age` before `now`, for those of `urls` that have
    one (an answer of "no copy" is `(None, None)`); URLs missing here need a lookup."""
    wanted = sorted(set(urls))
    found: dict[str, Snapshot] = {}
    with session_scope(db) as session:
        for start in range(0, len(wanted), _CHUNK):
            found.update(
                (row.url, (row.snapshot_url, row.captured_at))
                for row in session.scalars(select(ArchiveSnapshot).where(
                    ArchiveSnapshot.url.in_(wanted[start : start + _CHUNK]),
                    ArchiveSnapshot.looked_up_at >= now - max_age)))
    return found


def save_snapshots(db: Db, lookups: Iterable[ArchiveLookup], now: datetime) -> int:
    """Store archive answers (a snapshot, or none); failed lookups are skipped, so the next
    call asks again. Returns how many were stored."""
    rows = {
        lookup.url: {
            "snapshot_url": lookup.snapshot.url if lookup.snapshot else None,
            "captured_at": lookup.snapshot.captured_at if lookup.snapshot else None,
            "looked_up_at": now,
        }
        for lookup in lookups
        if lookup.error is None
    }
    with session_scope(db) as session:
        _upsert(session, ArchiveSnapshot, "url", rows)
    return len(rows)


def save_resource_matches(db: Db, suggestions: Iterable[ResourceMatch], now: datetime) -> int:
    """Store each resource's search outcome by its text: a paper, or "no clear match"."""
    rows = {
        item.resource: {"guide": item.guide, "query": item.query, "title": item.title,
                        "url": item.url, "looked_up_at": now}
        for item in suggestions
    }
    with session_scope(db) as session:
        _upsert(session, ResourceSuggestion, "key", rows)
    return len(rows)


def load_resource_matches(db: Db) -> dict[str, tuple[str, str]]:
    """Suggested papers by resource text, as `(title, abs URL)`; "no match" rows left out."""
    with session_scope(db) as session:
        return {key: (title, url) for key, title, url in session.execute(
            select(ResourceSuggestion.key, ResourceSuggestion.title, ResourceSuggestion.url)
            .where(ResourceSuggestion.url.is_not(None), ResourceSuggestion.title.is_not(None)))}


def settled_resource_searches(db: Db, now: datetime, retry_after: timedelta) -> set[str]:
    """Resource texts that need no search: those with a suggestion, and those whose search
    found nothing less than `retry_after` ago (arXiv may have the paper later)."""
    with session_scope(db) as session:
        return set(session.scalars(select(ResourceSuggestion.key).where(or_(
            ResourceSuggestion.url.is_not(None),
            ResourceSuggestion.looked_up_at >= now - retry_after))))
