"""The plain values the read side returns (no table rows leave `storage/`), and the
conversions from rows to them.

Built from `linkfresh.collector.types` values (Link, CheckResult, Paper, Post) where one fits, so
`reports/` can render them without knowing about the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from linkfresh.collector.types import (
    CheckResult,
    Hop,
    Link,
    LinkKind,
    LinkSource,
    LinkState,
    Paper,
    Post,
)


@dataclass(frozen=True, slots=True)
class RunSummary:
    id: int
    kind: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: dict[str, int] = field(default_factory=dict)
    pid: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class LinkIssue:
    """A link worth a digest line: its places in the guide(s) and the evidence.

    `evidence` is the check that caused the line (the confirming failure, the recovery) or
    the latest check; `since` is when the current trouble (or state) began.
    """

    url: str
    verdict: str
    links: tuple[Link, ...]
    evidence: CheckResult | None
    since: datetime | None = None
    duration: timedelta | None = None
    redirect_target: str | None = None
    still_broken: bool = False
    broken_since: datetime | None = None  # for fixed links: when it had been confirmed broken


@dataclass(frozen=True, slots=True)
class StoredPage:
    """A page's stored reference (title, main heading, text length, wall sign) and, when it
    counts as changed now, why (`drift`)."""

    title: str | None
    heading: str | None = None
    text_length: int | None = None
    wall: str | None = None
    drift: str | None = None


@dataclass(frozen=True, slots=True)
class LinkChange:
    """A link whose page changed since it was added: the titles then and now, and why."""

    url: str
    links: tuple[Link, ...]
    old_title: str | None
    new_title: str | None
    reason: str
    since: datetime | None


@dataclass(frozen=True, slots=True)
class SourceFailure:
    source: str
    at: datetime
    reason: str | None
    run_id: int | None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One stored check of a link and the state it led to."""

    at: datetime
    state: str
    verdict: str
    previous: str
    event: str | None
    status: int | None
    error: str | None
    final_url: str | None


@dataclass(frozen=True, slots=True)
class Place:
    """Where a link is (or was) written; `retired_at` is set once it left the guide."""

    link: Link
    first_seen: datetime
    retired_at: datetime | None


@dataclass(frozen=True, slots=True)
class LinkHistory:
    url: str
    verdict: str
    since: datetime | None
    failures: int
    failing_since: datetime | None
    last_checked: datetime | None
    last_ok: datetime | None
    final_url: str | None
    title: str | None
    etag: str | None
    last_modified: str | None
    content_changed_at: datetime | None
    places: tuple[Place, ...]
    entries: tuple[HistoryEntry, ...]


@dataclass(frozen=True, slots=True)
class GuideSummary:
    name: str
    synced_at: datetime | None
    active_links: int
    retired_links: int


@dataclass(frozen=True, slots=True)
class StatusSummary:
    runs: tuple[RunSummary, ...]
    verdicts: dict[str, int]
    guides: tuple[GuideSummary, ...]
    due_now: int
    next_due_at: datetime | None
    lock_holder: str | None
    round: RoundStatus | None = None


@dataclass(frozen=True, slots=True)
class RoundStatus:
    """The workers' open round: links not yet recorded, and those held under a live lease."""

    id: int
    opened_at: datetime
    left: int
    held: int
    workers: int


def link_from(url: str, guide: str, occ: Any) -> Link:
    """A `Link` value from an `occurrence` row (ORM object or Core row)."""
    return Link(
        url=url, target=occ.target, written_url=occ.written_url, text=occ.text, guide=guide,
        line=occ.line, section=tuple(occ.section or ()), kind=LinkKind(occ.kind),
        source=LinkSource(occ.source), unwrapped_by=tuple(occ.unwrapped_by or ()),
        flags=tuple(occ.flags or ()), disabled=bool(occ.disabled),
    )


def result_from(url: str, row: Any) -> CheckResult:
    """A `CheckResult` value from a `check_result` row."""
    return CheckResult(
        url=url, state=LinkState(row.state), checked_at=row.checked_at, status=row.status,
        final_url=row.final_url,
        chain=tuple(Hop(str(u), int(s), str(loc)) for u, s, loc in (row.chain or ())),
        error=row.error, error_class=row.error_class, elapsed_ms=row.elapsed_ms or 0,
        etag=row.etag, last_modified=row.last_modified, title=row.title, detail=row.detail,
    )


def paper_from(row: Any, topics: tuple[str, ...]) -> Paper:
    return Paper(
        arxiv_id=row.arxiv_id, version=row.version, title=row.title,
        authors=tuple(row.authors or ()), abstract=row.abstract,
        categories=tuple(row.categories or ()), published=row.published, updated=row.updated,
        abs_url=row.abs_url, pdf_url=row.pdf_url, primary_category=row.primary_category,
        comment=row.comment, topics=topics,
    )


def post_from(row: Any, topics: tuple[str, ...]) -> Post:
    return Post(url=row.url, title=row.title, source=row.source, published=row.published,
                summary=row.summary, topics=topics)
