"""Building the weekly digest from plain values, and rendering it as markdown or JSON.

`build_digest` is pure and deterministic (sorted, capped, `now` given); the renderers read
no clock, so the same inputs always give the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, date, datetime
from enum import Enum
from typing import TypeVar

from linkfresh.collector.news.relevance import Profile, Relevance, relevances
from linkfresh.collector.types import Paper, Post
from linkfresh.reports.digest_markdown import render_digest_markdown
from linkfresh.reports.digest_model import (
    BrokenLink,
    Capped,
    ChangedLink,
    Coverage,
    Digest,
    FailedSource,
    FixedLink,
    GuidePlace,
    Headline,
    LinkUpdate,
    Mention,
    PaperItem,
    Period,
    PostItem,
    TopicNews,
    UnlinkedResource,
    UnverifiedLink,
    UpdateKind,
    whole_days,
)
from linkfresh.reports.json_document import json_document, plain_time

__all__ = ["build_digest", "render_digest_json", "render_digest_markdown"]

DEFAULT_PER_TOPIC = 5
# Long lists (still broken, fixed, to update, unverified) are cut here so the digest stays a
# two-minute read; newly broken links are never cut, they are the point of the digest.
DEFAULT_LIST_CAP = 25
DEFAULT_MAX_AUTHORS = 3
DEFAULT_FIX_COMMAND = "linkfresh fix --write"
UNSORTED_TOPIC = "Other"

T = TypeVar("T")
Item = TypeVar("Item", Paper, Post)
V = TypeVar("V")


def build_digest(
    *,
    period: Period,
    now: datetime,
    guides: Sequence[str],
    links_checked: int,
    newly_broken: Iterable[BrokenLink] = (),
    still_broken: Iterable[BrokenLink] = (),
    fixed: Iterable[FixedLink] = (),
    to_update: Iterable[LinkUpdate] = (),
    unverified: Iterable[UnverifiedLink] = (),
    papers: Iterable[Paper] | Mapping[str, Iterable[Paper]] = (),
    posts: Iterable[Post] | Mapping[str, Iterable[Post]] = (),
    topics: Sequence[str] = (),
    unlinked: Iterable[UnlinkedResource] = (),
    failed_sources: Iterable[FailedSource] = (),
    changed: Iterable[ChangedLink] = (),
    per_topic: int = DEFAULT_PER_TOPIC,
    list_cap: int = DEFAULT_LIST_CAP,
    max_authors: int = DEFAULT_MAX_AUTHORS,
    fix_command: str = DEFAULT_FIX_COMMAND,
    coverage: Coverage | None = None,
    guide_read_only: bool = False,
    relevance: Sequence[Profile] | None = None,
    notable: Mapping[str, int] | None = None,
) -> Digest:
    """Sort, cap and count the period's findings into a `Digest`.

    `now` dates how long links have been broken (pass the period's end for a digest that
    is reproducible byte for byte). `topics` gives the topic order (the guide's); topics
    not in it follow alphabetically, papers and posts without a topic go under "Other".
    Papers are deduplicated by arXiv id (latest version wins), posts by URL. `papers` and
    `posts` may be flat (topics from each item's `topics`) or mappings of topic -> items.

    With `relevance` (every topic's profile), each item is scored now and listed under its
    best topic, best first, with the terms that earned it; otherwise its stored topics
    count, in order. Either way an item is listed once and mentioned under its other topics.
    `notable` (arXiv id -> upvotes on Hugging Face's daily papers) marks papers and breaks
    ties between equally relevant ones; it never lists a paper.
    """
    papers, posts = _by_topics(papers), _by_topics(posts)
    newly = sorted(newly_broken, key=_by_place)
    still = [_with_days(item, now) for item in still_broken]
    still.sort(key=lambda item: (item.since, _by_place(item)))  # longest broken first
    fixed_items = sorted(fixed, key=_by_place)
    # At one place, unwrapping comes before the redirect the unwrapped target answers with.
    kinds = list(UpdateKind)
    updates = sorted(to_update, key=lambda item: (_by_place(item)[0], kinds.index(item.kind),
                                                  item.old, item.new))
    unverified_items = sorted(unverified, key=_by_place)
    paper_list = _latest_papers(papers)
    post_list = list({post.url: post for post in sorted(posts, key=_post_key)}.values())
    news = _topic_news(paper_list, post_list, topics, per_topic, max_authors, relevance,
                       notable or {})
    failed = tuple(sorted(failed_sources, key=lambda item: (item.kind, item.name, item.reason)))
    headline = Headline(
        links_checked=links_checked,
        broken=len(newly) + len(still),
        newly_broken=len(newly),
        fixed=len(fixed_items),
        to_update=len(updates),
        unverified=len(unverified_items),
        new_papers=len(paper_list),
        new_posts=len(post_list),
        sources_failed=len(failed),
    )
    return Digest(
        period=period,
        week=period.iso_week,
        guides=tuple(guides),
        headline=headline,
        newly_broken=tuple(_with_days(item, now) for item in newly),
        still_broken=_cap(still, list_cap),
        fixed=_cap(fixed_items, list_cap),
        to_update=_cap(updates, list_cap),
        fix_command=fix_command,
        unverified=_cap(unverified_items, list_cap),
        topics=news,
        unlinked=tuple(sorted(unlinked, key=lambda item: (item.place, item.kind, item.text))),
        failed_sources=failed,
        changed=_cap(sorted(changed, key=_by_place), list_cap),
        coverage=coverage,
        guide_read_only=guide_read_only,
    )


def _by_topics(items: Iterable[Item] | Mapping[str, Iterable[Item]]) -> list[Item]:
    """Flatten a topic -> items mapping into items that carry all their topics."""
    if not isinstance(items, Mapping):
        return list(items)
    topics: dict[str, list[str]] = {}
    found: dict[str, Item] = {}
    for topic, group in items.items():
        for item in group:
            key = item.arxiv_id if isinstance(item, Paper) else item.url
            found.setdefault(key, item)
            topics.setdefault(key, []).append(topic)
    return [replace(item, topics=tuple(dict.fromkeys(topics[key]))) for key, item in found.items()]


def _by_place(
    item: BrokenLink | FixedLink | LinkUpdate | UnverifiedLink | ChangedLink,
) -> tuple[object, ...]:
    first = item.places[0] if item.places else GuidePlace("", 0)
    return (first, getattr(item, "url", getattr(item, "old", "")))


def _with_days(item: BrokenLink, now: datetime) -> BrokenLink:
    return replace(item, days=whole_days(_utc(now) - _utc(item.since)))


def _cap(items: Sequence[T], cap: int) -> Capped[T]:
    return Capped(tuple(items[:cap]), max(0, len(items) - cap))


def _utc(moment: datetime) -> datetime:
    # Naive datetimes from SQLite are UTC by storage's convention.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _latest_papers(papers: Iterable[Paper]) -> list[Paper]:
    latest: dict[str, Paper] = {}
    for paper in papers:
        kept = latest.get(paper.arxiv_id)
        if kept is None or paper.version > kept.version:
            latest[paper.arxiv_id] = paper
    return sorted(latest.values(), key=lambda paper: (-_utc(paper.published).timestamp(),
                                                      paper.arxiv_id))


def _post_key(post: Post) -> tuple[object, ...]:
    published = _utc(post.published).timestamp() if post.published else float("-inf")
    return (-published, post.url, post.title)


def _placements(title: str, summary: str, stored: Sequence[str],
                relevance: Sequence[Profile] | None) -> list[Relevance]:
    """The topics an item belongs to, best first: scored now when `relevance` is given (so
    a changed topic re-sorts what was collected), else the topics it was stored with."""
    if relevance is None:
        return [Relevance(topic, 0.0, ()) for topic in stored]
    return list(relevances(title, summary, relevance))


def _ranked(entries: list[tuple[Relevance, int, float, str, V]]) -> list[V]:
    """Best first: by score, then upvotes (papers), then newest, then by key."""
    return [entry for *_, entry in
            sorted(entries, key=lambda e: (-e[0].score, -e[1], -e[2], e[3]))]


def _topic_news(
    papers: list[Paper],
    posts: list[Post],
    order: Sequence[str],
    per_topic: int,
    max_authors: int,
    relevance: Sequence[Profile] | None = None,
    notable: Mapping[str, int] | None = None,
) -> tuple[TopicNews, ...]:
    """Each item listed in full under its best topic and mentioned under its others."""
    listed_papers: dict[str, list[tuple[Relevance, int, float, str, PaperItem]]] = {}
    listed_posts: dict[str, list[tuple[Relevance, int, float, str, PostItem]]] = {}
    notable = notable or {}
    mentions: dict[str, list[Mention]] = {}
    for paper in papers:
        placed = _placements(paper.title, paper.abstract, paper.topics, relevance)
        best = placed[0] if placed else Relevance(UNSORTED_TOPIC, 0.0, ())
        item = PaperItem(
            arxiv_id=paper.arxiv_id,
            title=paper.title,
            abs_url=paper.abs_url,
            authors=paper.authors[:max_authors],
            more_authors=max(0, len(paper.authors) - max_authors),
            published=_utc(paper.published).date(),
            score=best.score,
            why=best.matched,
            upvotes=notable.get(paper.arxiv_id),
        )
        when = _utc(paper.published).timestamp()
        votes = item.upvotes or 0
        listed_papers.setdefault(best.topic, []).append((best, votes, when, paper.arxiv_id, item))
        for other in placed[1:]:
            mentions.setdefault(other.topic, []).append(
                Mention(paper.title, paper.abs_url, best.topic))
    for post in posts:
        placed = _placements(post.title, post.summary, post.topics, relevance)
        best = placed[0] if placed else Relevance(UNSORTED_TOPIC, 0.0, ())
        published = _utc(post.published).date() if post.published else None
        entry = PostItem(post.title, post.url, post.source, published, best.score, best.matched)
        when = _utc(post.published).timestamp() if post.published else float("-inf")
        listed_posts.setdefault(best.topic, []).append((best, 0, when, post.url, entry))
        for other in placed[1:]:
            mentions.setdefault(other.topic, []).append(Mention(post.title, post.url, best.topic))
    rank = {name: index for index, name in enumerate(order)}
    names = sorted(set(listed_papers) | set(listed_posts) | set(mentions),
                   key=lambda name: (rank.get(name, len(rank)), name == UNSORTED_TOPIC, name))
    news = []
    for name in names:
        # Scored items that fit no topic are counted, and listed in the JSON digest only.
        shown = 0 if name == UNSORTED_TOPIC and relevance is not None else per_topic
        topic_papers = _ranked(listed_papers.get(name, []))
        topic_posts = _ranked(listed_posts.get(name, []))
        news.append(TopicNews(
            topic=name,
            papers=tuple(topic_papers[:shown]),
            posts=tuple(topic_posts[:shown]),
            more_papers=max(0, len(topic_papers) - shown),
            more_posts=max(0, len(topic_posts) - shown),
            further_papers=tuple(topic_papers[shown:]),
            further_posts=tuple(topic_posts[shown:]),
            mentions=tuple(sorted(mentions.get(name, []),
                                  key=lambda m: (rank.get(m.listed_under, len(rank)), m.title,
                                                 m.url))),
        ))
    return tuple(news)


def render_digest_json(digest: Digest) -> str:
    """The digest as JSON (docs/schemas/digest.schema.json): raw values, times in UTC."""
    body = _plain(digest)
    assert isinstance(body, dict)
    version = body.pop("schema")
    return json_document("digest", version, body)


def _plain(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return plain_time(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {field.name: _plain(getattr(value, field.name)) for field in fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
