"""The weekly digest as data: frozen dataclasses of plain values, before any rendering.

Storage's queries fill the item types below; `linkfresh.reports.digest.build_digest` sorts, caps and
counts them into a `Digest`; the renderers only format it. No clock, no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

from linkfresh.collector.types import CheckResult, Guide, Link

DIGEST_SCHEMA_VERSION = 1
# The resource kinds (singular, lower case) the digest lists when they carry no URL.
RESOURCE_KINDS = frozenset({"book", "paper", "video", "course", "tutorial"})

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Period:
    """The half-open interval `[start, end)` the digest covers (timezone-aware, UTC best)."""

    start: datetime
    end: datetime

    @property
    def iso_week(self) -> str:
        """`YYYY-Www` of the period's midpoint, so a Monday-morning run names last week."""
        year, week, _ = (self.start + (self.end - self.start) / 2).isocalendar()
        return f"{year}-W{week:02d}"


@dataclass(frozen=True, slots=True, order=True)
class GuidePlace:
    """Where a link (or a named resource) is written: guide path, 1-based line, section path."""

    guide: str
    line: int
    section: tuple[str, ...] = ()

    @classmethod
    def of(cls, links: Iterable[Link]) -> tuple[GuidePlace, ...]:
        """The distinct places of `links`, in guide order."""
        return tuple(sorted({cls(link.guide, link.line, link.section) for link in links}))


class SuggestionKind(StrEnum):
    """Where a suggested replacement for a broken link comes from."""

    REDIRECT = "redirect"  # the last permanent redirect the link answered with
    ARCHIVE = "archive"  # the closest Web Archive snapshot


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A replacement URL for a broken link; `captured` is the snapshot's date, if archived."""

    kind: SuggestionKind
    url: str
    captured: date | None = None


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """A link that is broken (state broken, error or timeout, confirmed by the history).

    `status` is the last HTTP status, `error` the last error text when there was no status
    (e.g. "connection refused"); `since` is when it was first seen failing in this streak;
    `days` is filled by `build_digest` (how long, counted at the digest's `now`).
    """

    url: str
    places: tuple[GuidePlace, ...]
    state: str
    since: datetime
    status: int | None = None
    error: str | None = None
    suggestion: Suggestion | None = None
    days: int = 0

    @property
    def what(self) -> str:
        """What happened, in a few words: "HTTP 404" or the error text."""
        return describe(self.status, self.error, self.state)


@dataclass(frozen=True, slots=True)
class FixedLink:
    """A link that was broken at the last digest and answers again."""

    url: str
    places: tuple[GuidePlace, ...]
    fixed_at: datetime
    broken_since: datetime | None = None


class UpdateKind(StrEnum):
    """Why the guide should change a link."""

    WRAPPER = "wrapper"  # a redirect wrapper (Google, Outlook SafeLinks, ...) around the target
    REDIRECT = "redirect"  # the target answers with a permanent redirect (301/308)


@dataclass(frozen=True, slots=True)
class LinkUpdate:
    """A link the guide should write differently: `old` as written, `new` what to write.

    `via` names the unwrap rule(s) ("google-url") or the redirect status ("301").
    """

    kind: UpdateKind
    old: str
    new: str
    places: tuple[GuidePlace, ...]
    via: str = ""


@dataclass(frozen=True, slots=True)
class UnverifiedLink:
    """A link that could not be verified (bot wall, rate limit): listed, never broken."""

    url: str
    places: tuple[GuidePlace, ...]
    reason: str
    status: int | None = None


@dataclass(frozen=True, slots=True)
class ChangedLink:
    """A link whose page is no longer what it was when added (`linkfresh accept` takes the
    new page as the reference): its title then and now, why, and since when."""

    url: str
    places: tuple[GuidePlace, ...]
    old_title: str | None
    new_title: str | None
    reason: str
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class PaperItem:
    """A new arXiv paper: the first authors only (`more_authors` counts the rest).

    `score` is its relevance to the topic it is listed under and `why` the terms that
    earned it (empty when the digest was built without relevance profiles).
    """

    arxiv_id: str
    title: str
    abs_url: str
    authors: tuple[str, ...]
    more_authors: int
    published: date
    score: float = 0.0
    why: tuple[str, ...] = ()
    upvotes: int | None = None  # picked on Hugging Face's daily papers, with this many votes


@dataclass(frozen=True, slots=True)
class PostItem:
    """A new blog post; `published` is None when the feed gave no date (`score`, `why`
    as for papers)."""

    title: str
    url: str
    source: str
    published: date | None
    score: float = 0.0
    why: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Mention:
    """An item relevant to a topic but listed in full under its best topic, `listed_under`."""

    title: str
    url: str
    listed_under: str


@dataclass(frozen=True, slots=True)
class TopicNews:
    """What is new on one topic, best first (by relevance, then newest), capped.

    `more_*` counts what was cut from the markdown; `further_*` holds those items for the
    JSON digest, which lists everything. `mentions` are items listed under another topic.
    """

    topic: str
    papers: tuple[PaperItem, ...]
    posts: tuple[PostItem, ...]
    more_papers: int = 0
    more_posts: int = 0
    further_papers: tuple[PaperItem, ...] = ()
    further_posts: tuple[PostItem, ...] = ()
    mentions: tuple[Mention, ...] = ()

    @property
    def total_papers(self) -> int:
        return len(self.papers) + self.more_papers

    @property
    def total_posts(self) -> int:
        return len(self.posts) + self.more_posts


@dataclass(frozen=True, slots=True)
class PaperMatch:
    """An arXiv paper whose title clearly matches a resource named without a link."""

    title: str
    url: str


@dataclass(frozen=True, slots=True)
class UnlinkedResource:
    """A bolded resource line of the guide (`**Video:** ...`) that carries no URL."""

    kind: str
    text: str
    place: GuidePlace
    suggestion: PaperMatch | None = None


@dataclass(frozen=True, slots=True)
class FailedSource:
    """A source that failed this period (`kind` "feed" or "arxiv"), so silence is explained."""

    kind: str
    name: str
    reason: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Headline:
    """The numbers at the top. `broken` counts newly and still broken; unverified is apart."""

    links_checked: int
    broken: int
    newly_broken: int
    fixed: int
    to_update: int
    unverified: int
    new_papers: int
    new_posts: int
    sources_failed: int


@dataclass(frozen=True, slots=True)
class Capped(Generic[T]):
    """A list shown in full up to a cap; `more` counts the items left out."""

    items: tuple[T, ...] = ()
    more: int = 0

    def __bool__(self) -> bool:
        return bool(self.items)


NETWORK_DOWN = "network-down"  # a run's outcome when no host could be reached


@dataclass(frozen=True, slots=True)
class Coverage:
    """What ran in the period, so that a quiet digest is never taken for a healthy guide.

    `last_check` / `last_collect` are the outcomes of the period's latest runs ("ok",
    "network-down", "failed", "interrupted"); None: that stage did not run in the period.
    """

    checks: int = 0
    last_check_at: datetime | None = None
    last_check: str | None = None
    collections: int = 0
    last_collect_at: datetime | None = None
    last_collect: str | None = None

    @property
    def network_down(self) -> bool:
        """The period's last check reached no host: nothing was checked, none marked broken."""
        return self.last_check == NETWORK_DOWN

    @property
    def collection_skipped(self) -> bool:
        """The network was down and nothing was collected after that check."""
        if not self.network_down:
            return False
        return (self.last_collect_at is None or self.last_check_at is None
                or self.last_collect_at < self.last_check_at
                or self.last_collect == NETWORK_DOWN)


@dataclass(frozen=True, slots=True)
class Digest:
    """Everything a digest says, in section order; sections may be empty (then not shown).

    `fix_command` is the command that applies `to_update`; `guide_read_only` says it cannot
    apply to the guide as it is (the bundled one). `coverage` (None: not known) says what ran.
    """

    period: Period
    week: str
    guides: tuple[str, ...]
    headline: Headline
    newly_broken: tuple[BrokenLink, ...]
    still_broken: Capped[BrokenLink]
    fixed: Capped[FixedLink]
    to_update: Capped[LinkUpdate]
    fix_command: str
    unverified: Capped[UnverifiedLink]
    topics: tuple[TopicNews, ...]
    unlinked: tuple[UnlinkedResource, ...]
    failed_sources: tuple[FailedSource, ...]
    changed: Capped[ChangedLink] = Capped()
    coverage: Coverage | None = None
    guide_read_only: bool = False
    schema: int = DIGEST_SCHEMA_VERSION


def describe(status: int | None, error: str | None, state: str = "") -> str:
    """A short account of a failure: "HTTP 404", the error text, or the state's name."""
    if status is not None:
        return f"HTTP {status}" + (f" ({error})" if error else "")
    return error or state or "unknown"


def broken_from_result(
    result: CheckResult,
    links: Iterable[Link],
    since: datetime,
    suggestion: Suggestion | None = None,
) -> BrokenLink:
    """A `BrokenLink` from the latest failing result and the guide links it stands for."""
    return BrokenLink(
        url=result.url,
        places=GuidePlace.of(links),
        state=str(result.state),
        since=since,
        status=result.status,
        error=result.error,
        suggestion=suggestion,
    )


def unlinked_resources(guide: Guide) -> list[UnlinkedResource]:
    """The guide's bolded Book/Paper/Video/Course/Tutorial lines without a URL, no suggestion.

    A caller with an arXiv title match replaces `suggestion` (`dataclasses.replace`).
    """
    return [
        UnlinkedResource(resource.kind, resource.text,
                         GuidePlace(guide.path, resource.line, resource.section))
        for resource in guide.resources
        if not resource.has_link and resource.kind.lower().removesuffix("s") in RESOURCE_KINDS
    ]


def whole_days(span: timedelta) -> int:
    return max(0, span.days)
