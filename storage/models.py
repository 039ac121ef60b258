"""The database tables (SQLModel): guides and link occurrences, resources and their check
results, runs and the run lock, topics, papers, posts, source runs and what sources left for
the next run (feed validators, Web Archive answers, suggested papers).

Only `storage/` sees these rows; everything leaving the package is a plain value.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC, returned aware (UTC).

    SQLite has no time-zone type, so every backend gets the same naive-UTC storage and
    comparisons in SQL stay correct. A naive value passed in is taken to be UTC already.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _when(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


def _json(**kwargs: Any) -> Any:
    return Field(sa_type=JSON, **kwargs)


class Meta(SQLModel, table=True):
    """Key/value facts about the database itself, e.g. `schema_version`."""

    __tablename__ = "meta"
    name: str = Field(primary_key=True)
    value: str


class GuideRow(SQLModel, table=True):
    __tablename__ = "guide"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    title: str = ""
    synced_at: datetime | None = _when(default=None)
    # What the links of the last sync hashed to: the same guide again needs no diff.
    links_digest: str | None = None


class Resource(SQLModel, table=True):
    """One row per normalised URL: its state across runs and the validators to send."""

    __tablename__ = "resource"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True)
    verdict: str = Field(default="new", index=True)
    since: datetime | None = _when(default=None)
    failures: int = 0
    failing_since: datetime | None = _when(default=None)
    broken_since: datetime | None = _when(default=None)
    flips: list[str] = _json(default_factory=list)
    first_seen: datetime = _when()
    last_checked: datetime | None = _when(default=None, index=True)
    last_ok: datetime | None = _when(default=None)
    last_state: str | None = None
    last_status: int | None = None
    last_error: str | None = None
    last_final_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    content_changed_at: datetime | None = _when(default=None)
    # Not a foreign key: it points at a child row; thinning keeps it.
    latest_result_id: int | None = None
    # Workers (storage/claims.py): the unit of politeness, the last round that checked the
    # link, and the worker holding it until `lease_until` (the database's clock).
    host: str = Field(default="", index=True, sa_column_kwargs={"server_default": ""})
    checked_round: int | None = None
    lease_owner: str | None = Field(default=None, index=True)
    lease_until: datetime | None = _when(default=None)


class PageReference(SQLModel, table=True):
    """What a linked page was at its first good check (the reference content drift is judged
    against), what it is now, and why it counts as changed (`drift`, None while it does not).

    `linkfresh accept URL` makes the page as it is now the reference.
    """

    __tablename__ = "page_reference"
    resource_id: int = Field(foreign_key="resource.id", primary_key=True)
    title: str | None = None
    heading: str | None = None
    text_length: int | None = None
    wall: str | None = None
    taken_at: datetime = _when()
    now_title: str | None = None
    now_heading: str | None = None
    now_text_length: int | None = None
    now_wall: str | None = None
    seen_at: datetime = _when()
    drift: str | None = None
    drifted_at: datetime | None = _when(default=None)


class Occurrence(SQLModel, table=True):
    """Where a resource is written in a guide; retired (not deleted) when it leaves the guide.

    Identity is (guide, resource, URL as written, nth such occurrence), so a link that moves
    to another line or is re-added keeps its row and its history.
    """

    __tablename__ = "occurrence"
    __table_args__ = (UniqueConstraint("guide_id", "resource_id", "written_url", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    guide_id: int = Field(foreign_key="guide.id", index=True)
    resource_id: int = Field(foreign_key="resource.id", index=True)
    written_url: str
    seq: int = 0
    target: str
    text: str = ""
    line: int = 0
    section: list[str] = _json(default_factory=list)
    kind: str = "http"
    source: str = "inline"
    unwrapped_by: list[str] = _json(default_factory=list)
    flags: list[str] = _json(default_factory=list)
    disabled: bool = False
    first_seen: datetime = _when()
    last_seen: datetime = _when()
    retired_at: datetime | None = _when(default=None, index=True)


class ResultRow(SQLModel, table=True):
    """One check of one resource, with the verdict it led to (`event` marks transitions)."""

    __tablename__ = "check_result"
    __table_args__ = (
        Index("ix_result_resource_time", "resource_id", "checked_at"),
        Index("ix_result_time_resource", "checked_at", "resource_id"),
        Index("ix_result_event_time", "event", "checked_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(foreign_key="resource.id")
    run_id: int | None = Field(default=None, foreign_key="run.id", index=True)
    checked_at: datetime = _when()
    state: str
    status: int | None = None
    final_url: str | None = None
    chain: list[list[Any]] | None = _json(default=None)
    error: str | None = None
    error_class: str | None = None
    elapsed_ms: int = 0
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    detail: str | None = None
    verdict: str
    previous: str
    changed: bool = False
    event: str | None = None


class RunRow(SQLModel, table=True):
    __tablename__ = "run"
    id: int | None = Field(default=None, primary_key=True)
    kind: str
    started_at: datetime = _when(index=True)
    finished_at: datetime | None = _when(default=None)
    outcome: str = Field(default="running", index=True)
    pid: int | None = None
    host: str | None = None
    counts: dict[str, int] = _json(default_factory=dict)
    note: str | None = None


class RunLock(SQLModel, table=True):
    """At most one row (id 1): the process that holds the one-run-at-a-time lock."""

    __tablename__ = "run_lock"
    id: int = Field(default=1, primary_key=True)
    token: str
    pid: int
    host: str
    kind: str = ""
    started_at: datetime = _when()


class CheckRound(SQLModel, table=True):
    """One round of checks shared by the workers: every due link is checked once in it.

    `slot` is the schedule's fire time that opened it, unique, so that workers starting
    together open one round; `run_id` is the `check` run its results are recorded under.
    """

    __tablename__ = "check_round"
    id: int | None = Field(default=None, primary_key=True)
    slot: datetime = _when(unique=True)
    opened_at: datetime = _when()
    closed_at: datetime | None = _when(default=None)
    run_id: int | None = Field(default=None, foreign_key="run.id")


class HostSlot(SQLModel, table=True):
    """One of a host's `per_host` request slots, leased by one worker at a time."""

    __tablename__ = "host_slot"
    __table_args__ = (UniqueConstraint("host", "slot"),)
    id: int | None = Field(default=None, primary_key=True)
    host: str
    slot: int
    owner: str | None = None
    lease_until: datetime | None = _when(default=None)


class TopicRow(SQLModel, table=True):
    __tablename__ = "topic"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    section: str = ""
    arxiv_query: str = ""
    keywords: list[str] = _json(default_factory=list)


class PaperRow(SQLModel, table=True):
    __tablename__ = "paper"
    id: int | None = Field(default=None, primary_key=True)
    arxiv_id: str = Field(unique=True)
    version: int = 1
    title: str
    authors: list[str] = _json(default_factory=list)
    abstract: str = ""
    categories: list[str] = _json(default_factory=list)
    primary_category: str | None = None
    comment: str | None = None
    published: datetime = _when(index=True)
    updated: datetime = _when()
    abs_url: str
    pdf_url: str | None = None
    first_seen: datetime = _when(index=True)
    last_changed: datetime = _when()


class PaperTopic(SQLModel, table=True):
    __tablename__ = "paper_topic"
    paper_id: int = Field(foreign_key="paper.id", primary_key=True)
    topic_id: int = Field(foreign_key="topic.id", primary_key=True, index=True)
    added_at: datetime = _when(index=True)


class PostRow(SQLModel, table=True):
    __tablename__ = "post"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True)
    title: str
    source: str = Field(index=True)
    published: datetime | None = _when(default=None)
    summary: str = ""
    first_seen: datetime = _when(index=True)


class PostTopic(SQLModel, table=True):
    __tablename__ = "post_topic"
    post_id: int = Field(foreign_key="post.id", primary_key=True)
    topic_id: int = Field(foreign_key="topic.id", primary_key=True, index=True)
    added_at: datetime = _when(index=True)


class SourceRun(SQLModel, table=True):
    """One pull of one news source (a feed, arXiv for a topic): ok or failed, and why."""

    __tablename__ = "source_run"
    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, foreign_key="run.id", index=True)
    source: str = Field(index=True)
    ok: bool
    reason: str | None = None
    counts: dict[str, int] = _json(default_factory=dict)
    at: datetime = _when(index=True)


class SourceState(SQLModel, table=True):
    """What the last successful pull of a blog source learned: the URL actually read (a feed
    discovered on a site, say) and the validators for the next conditional request."""

    __tablename__ = "source_state"
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(unique=True)
    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    updated_at: datetime = _when()


class ArchiveSnapshot(SQLModel, table=True):
    """A Web Archive answer for one URL, kept so the digest asks the archive once per URL.

    `snapshot_url` None records "the archive has no usable copy" (also worth not re-asking).
    """

    __tablename__ = "archive_snapshot"
    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True)
    snapshot_url: str | None = None
    captured_at: datetime | None = _when(default=None)
    looked_up_at: datetime = _when()


class ResourceSuggestion(SQLModel, table=True):
    """An arXiv paper suggested for a resource the guide names without a link, keyed by the
    resource's text. `title`/`url` None records a search that found no clear match."""

    __tablename__ = "resource_suggestion"
    id: int | None = Field(default=None, primary_key=True)
    guide: str = ""
    key: str = Field(unique=True)
    query: str | None = None
    title: str | None = None
    url: str | None = None
    looked_up_at: datetime = _when()
