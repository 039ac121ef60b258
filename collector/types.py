"""Plain, immutable values that flow between linkfresh's stages.

Only `storage/` knows about tables and only `reports/` formats text; everything they
exchange with `collector/` is one of these frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urldefrag

_T = TypeVar("_T")


def pickled_by_fields(cls: type[_T]) -> type[_T]:
    """Pickle a frozen dataclass as a call to its constructor: half the time of the default
    (per-field state), for the values that cross processes by the thousand (a guide's links
    from the parsing child, check results to the writing child)."""
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]

    def reduce(self: Any) -> tuple[Callable[..., _T], tuple[Any, ...]]:
        return cls, tuple(getattr(self, name) for name in names)

    cls.__reduce__ = reduce  # type: ignore[assignment,method-assign]
    return cls


class LinkKind(StrEnum):
    """What a link points at; only `HTTP` links are ever fetched."""

    HTTP = "http"
    MAILTO = "mailto"
    FTP = "ftp"
    RELATIVE = "relative"
    ANCHOR = "anchor"
    OTHER = "other"


class LinkSource(StrEnum):
    """How the link was written in the markdown."""

    INLINE = "inline"
    REFERENCE = "reference"
    AUTOLINK = "autolink"
    BARE = "bare"
    HTML = "html"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Link:
    """One occurrence of a link in a guide.

    `target` is the unwrapped URL as it should be written; `url` is its normalised
    identity (lower-case scheme and host, no default port, punycode host), fragment kept.
    """

    url: str
    target: str
    written_url: str
    text: str
    guide: str
    line: int
    section: tuple[str, ...]
    kind: LinkKind
    source: LinkSource = LinkSource.INLINE
    unwrapped_by: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    disabled: bool = False
    # Where `written_url` stands in the decoded guide text, for `fix`; None if not found.
    span: tuple[int, int] | None = field(default=None, compare=False)

    @property
    def request_url(self) -> str:
        """The URL to fetch: the identity without its fragment."""
        return urldefrag(self.url).url

    @property
    def fragment(self) -> str:
        return urldefrag(self.url).fragment

    @property
    def is_wrapped(self) -> bool:
        """True when a redirect wrapper was removed to reach `target`."""
        return bool(self.unwrapped_by)


@dataclass(frozen=True, slots=True)
class GuideTopic:
    """A topic bullet of a numbered step, e.g. "Positional encoding"."""

    name: str
    step: str
    section: tuple[str, ...]
    line: int
    description: str = ""


@dataclass(frozen=True, slots=True)
class NamedResource:
    """A bolded resource line (`**Book:** ...`) and whether it carries a link."""

    kind: str
    text: str
    line: int
    section: tuple[str, ...]
    has_link: bool


@dataclass(frozen=True, slots=True)
class Guide:
    """A parsed guide: its metadata, links in document order, steps and topics."""

    path: str
    title: str
    front_matter: dict[str, object]
    links: tuple[Link, ...]
    topics: tuple[GuideTopic, ...]
    resources: tuple[NamedResource, ...]
    steps: tuple[str, ...]
    encoding: str = "utf-8"
    warnings: tuple[str, ...] = ()
    # Heading texts as written (for anchors) and explicit HTML `id`/`name` anchors.
    headings: tuple[str, ...] = ()
    anchor_ids: tuple[str, ...] = ()


class LinkState(StrEnum):
    """The verdict on one link (the states and what each means: docs/ARCHITECTURE.md)."""

    OK = "ok"
    REDIRECTED = "redirected"
    BROKEN = "broken"
    ERROR = "error"
    TIMEOUT = "timeout"
    UNVERIFIED = "unverified"
    SKIPPED = "skipped"
    # The host answers every path with a parking or "domain for sale" page: counted as broken.
    PARKED = "parked"
    # Answers, but no longer with what the guide linked (decided from the history, never by
    # the checker alone): listed, not counted as broken.
    CHANGED = "changed"

    @property
    def is_failure(self) -> bool:
        """States that count against a link across runs (not unverified, not skipped)."""
        return self in (LinkState.BROKEN, LinkState.ERROR, LinkState.TIMEOUT, LinkState.PARKED)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Hop:
    """One redirect hop: the status answered and where it pointed."""

    url: str
    status: int
    location: str


@dataclass(frozen=True, slots=True)
class Validators:
    """Conditional-request validators kept from the last check (RFC 9110 §13.1)."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        found = {"If-None-Match": self.etag, "If-Modified-Since": self.last_modified}
        return {name: value for name, value in found.items() if value}


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the last run learned about a blog source: the URL read and its validators."""

    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of checking one URL, with its evidence."""

    url: str
    state: LinkState
    checked_at: datetime
    status: int | None = None
    final_url: str | None = None
    chain: tuple[Hop, ...] = ()
    error: str | None = None
    error_class: str | None = None
    elapsed_ms: int = 0
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None
    detail: str | None = None
    requests: int = 0
    # The page's fingerprint, for content drift: main heading, visible text length, and the
    # sign of a login or consent wall (None when the page shows none).
    heading: str | None = None
    text_length: int | None = None
    wall: str | None = None


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic to collect news for: what to ask arXiv, and what makes an item relevant.

    `keywords` and `names` (model names, counted in titles only) raise an item's score,
    `exclude` rules a topic out when in the title; `threshold` None means the default.
    """

    name: str
    arxiv_query: str = ""
    keywords: tuple[str, ...] = ()
    section: str = ""
    names: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    threshold: float | None = None


@dataclass(frozen=True, slots=True)
class Paper:
    """An arXiv paper, keyed by its id without version."""

    arxiv_id: str
    version: int
    title: str
    authors: tuple[str, ...]
    abstract: str
    categories: tuple[str, ...]
    published: datetime
    updated: datetime
    abs_url: str
    pdf_url: str | None = None
    primary_category: str | None = None
    comment: str | None = None
    topics: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Post:
    """A blog post from a feed or a listing page."""

    url: str
    title: str
    source: str
    published: datetime | None
    summary: str = ""
    topics: tuple[str, ...] = ()
