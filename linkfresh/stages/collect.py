"""The collect stage: pull new arXiv papers and blog posts for every topic, store them, and
say per source what happened. `collect_stage` is the whole stage (shared by `collect`, `run`
and `serve`); collection (`collect_all`) and storing (`store_collected`) stay separate inside it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import arxiv
import httpx
from sqlalchemy import Engine

from linkfresh.clients import USER_AGENT, http_client
from linkfresh.collector.news.arxiv_source import build_arxiv_client, collect_arxiv, merge_papers
from linkfresh.collector.news.feeds import FeedRetry, collect_feeds
from linkfresh.collector.news.outcomes import SourceKind, SourceOutcome
from linkfresh.collector.news.relevance import profiles
from linkfresh.collector.types import FeedState, Guide, Paper, Post, Topic
from linkfresh.config.bundled import bundled_feeds
from linkfresh.config.settings import FeedSettings, Settings
from linkfresh.context import AppContext, default_topics, to_topic
from linkfresh.exitcodes import ExitCode, Fail
from linkfresh.stages.named_resources import search_named_resources
from linkfresh.storage.news import (
    last_seen_paper,
    record_source_run,
    sync_topics,
    upsert_papers,
    upsert_posts,
)
from linkfresh.storage.runs import RunOutcome, recorded_run
from linkfresh.storage.sources import load_feed_states, save_feed_states

ARXIV_SOURCE = "arxiv"
OnOutcome = Callable[[SourceOutcome], None]


@dataclass(frozen=True, slots=True)
class CollectOutcome:
    """Everything one collect run found, and one outcome per source.

    `extra` holds auxiliary sources (the arXiv searches for resources named without a link):
    recorded like any source, but they neither change the exit code nor mean "network down".
    `new_papers` / `new_posts` are filled in once stored; `stopped` says a stop cut it short.
    """

    papers: tuple[Paper, ...]
    posts: tuple[Post, ...]
    outcomes: tuple[SourceOutcome, ...]
    extra: tuple[SourceOutcome, ...] = ()
    stopped: bool = False
    new_papers: tuple[str, ...] = ()
    new_posts: tuple[str, ...] = ()

    @property
    def network_down(self) -> bool:
        """Every source failed, each at network level: nothing could be reached."""
        return bool(self.outcomes) and all(o.network_failure for o in self.outcomes)

    @property
    def exit_code(self) -> ExitCode:
        if self.network_down:
            return ExitCode.UNVERIFIABLE
        if any(not o.ok for o in self.outcomes):
            return ExitCode.SOURCES_FAILED
        return ExitCode.OK


@dataclass(frozen=True, slots=True)
class CollectPlan:
    """What a collect will pull: every topic (posts match against all), the arXiv topics
    chosen, and the blog sources chosen."""

    topics: tuple[Topic, ...]
    arxiv_topics: tuple[Topic, ...]
    feeds: tuple[FeedSettings, ...]
    search_named: bool = True  # search arXiv for resources named without a link

    @property
    def sources(self) -> int:
        return len(self.feeds) + len(self.arxiv_topics)


def configured_topics(app: AppContext, parsed: Sequence[Guide] | None = None) -> list[Topic]:
    """`[[topics]]`, else the curated list for the bundled guide, else derived from the guides
    (`parsed`, when the caller has read them already)."""
    if app.settings.topics is not None:
        return [to_topic(topic) for topic in app.settings.topics]
    return default_topics(app, parsed=parsed)


def select(names: Sequence[str], known: Sequence[str], what: str) -> set[str]:
    """The chosen names (all when none given); an unknown one is a usage error naming them."""
    if not names:
        return set(known)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise Fail(f"unknown {what} {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    return set(names)


def configured_feeds(app: AppContext) -> list[FeedSettings]:
    """The `[[feeds]]` of the configuration, or the bundled ones when it names none."""
    return app.settings.feeds if app.settings.feeds is not None else bundled_feeds()


def plan_collect(app: AppContext, topics: Sequence[str] = (),
                 sources: Sequence[str] = (), *,
                 parsed: Sequence[Guide] | None = None) -> CollectPlan:
    """Resolve `--topic` / `--source` names against the configuration; unknown ones are a
    usage error (`Fail`, exit 2) that lists the known names."""
    every_topic = configured_topics(app, parsed)
    feeds = configured_feeds(app)
    chosen_topics = select(topics, [t.name for t in every_topic], "topic")
    chosen_sources = select(sources, [ARXIV_SOURCE, *(f.name for f in feeds)], "source")
    arxiv_topics = [t for t in every_topic if t.name in chosen_topics and t.arxiv_query]
    if ARXIV_SOURCE not in chosen_sources:
        arxiv_topics = []
    # The searches ride with the arXiv source, but not on a run narrowed to some topics.
    search_named = ARXIV_SOURCE in chosen_sources and not topics
    return CollectPlan(tuple(every_topic), tuple(arxiv_topics),
                       tuple(f for f in feeds if f.name in chosen_sources), search_named)


def _stopped(stop: threading.Event | None) -> bool:
    return stop is not None and stop.is_set()


def feed_retry(settings: Settings, stop: threading.Event | None = None) -> FeedRetry:
    """Feeds are retried as links are (`[check]` retries, backoff, Retry-After cap) and get
    a link's deadline (`check.link_deadline`, retries included) in all; a wait ends early when
    `stop` is set, so a daemon shutting down is not held by a Retry-After."""

    async def sleep(seconds: float) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while not _stopped(stop) and (left := end - loop.time()) > 0:
            await asyncio.sleep(min(left, 0.2))

    check = settings.check
    return FeedRetry(retries=check.retries, backoff=check.backoff,
                     retry_after_cap=check.retry_after_cap, dns_pause=check.dns_retry_pause,
                     sleep=sleep, deadline=check.link_deadline)


async def collect_all(
    settings: Settings,
    topics: Sequence[Topic],
    arxiv_topics: Sequence[Topic],
    feeds: Sequence[FeedSettings],
    client: httpx.AsyncClient,
    arxiv_client: arxiv.Client | None,
    now: datetime,
    *,
    last_seen: dict[str, datetime | None] | None = None,
    feed_states: Mapping[str, FeedState] | None = None,
    on_outcome: OnOutcome | None = None,
    stop: threading.Event | None = None,
) -> CollectOutcome:
    """Pull the feeds, then arXiv; every post and paper is scored against all `topics` and
    keeps those it is relevant to (papers relevant to none are dropped). Stores nothing.

    With `stop` set, no further source is started; what came back so far is returned.
    """
    posts, outcomes = await collect_feeds(
        client, feeds, topics, now, feed_states, on_outcome, feed_retry(settings, stop),
        should_stop=lambda: _stopped(stop))
    stopped = len(outcomes) < len(feeds)
    papers: list[Paper] = []
    relevance = profiles(topics)  # arXiv results are candidates: each is re-scored
    if arxiv_client is not None:
        for topic in arxiv_topics:
            if stopped := stopped or _stopped(stop):
                break
            # Deliberately blocking: arXiv's terms make its pulls sequential (one request
            # every 3 s) and the feeds are done by now, so nothing else waits on the loop.
            pull = collect_arxiv(arxiv_client, [topic], settings.arxiv, now, last_seen,
                                 on_outcome=on_outcome, relevance=relevance)
            papers.extend(pull.papers)
            outcomes.extend(pull.outcomes)
    return CollectOutcome(merge_papers(papers), tuple(posts), tuple(outcomes), stopped=stopped)


def source_name(outcome: SourceOutcome) -> str:
    """How a source run is recorded: a feed by name, arXiv as `arxiv:<topic>`."""
    return f"arxiv:{outcome.source}" if outcome.kind is SourceKind.ARXIV else outcome.source


def store_collected(db: Engine, result: CollectOutcome, topics: Sequence[Topic],
                    now: datetime) -> tuple[list[str], list[str]]:
    """Store papers and posts and record every source run; returns (new paper ids, new URLs).

    A failed source stores nothing and deletes nothing: what earlier runs stored stays.
    """
    sync_topics(db, topics)
    new_papers = upsert_papers(db, result.papers, now=now)
    new_posts = upsert_posts(db, result.posts, now=now)
    fresh_ids, fresh_urls = set(new_papers), set(new_posts)
    for outcome in result.outcomes:
        if outcome.kind is SourceKind.ARXIV:
            new = sum(1 for p in result.papers
                      if p.arxiv_id in fresh_ids and outcome.source in p.topics)
        else:
            new = sum(1 for p in result.posts if p.url in fresh_urls and p.source == outcome.source)
        _record(db, outcome, {"items": outcome.items, "new": new}, now)
    for outcome in result.extra:
        _record(db, outcome, {"items": outcome.items}, now)
    return new_papers, new_posts


def _record(db: Engine, outcome: SourceOutcome, counts: dict[str, int], now: datetime) -> None:
    record_source_run(db, source_name(outcome), outcome.ok,
                      outcome.reason if not outcome.ok else outcome.status.value, counts, now=now)


def collect_stage(
    app: AppContext,
    engine: Engine,
    now: datetime,
    *,
    topics: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    stop: threading.Event | None = None,
    on_outcome: OnOutcome | None = None,
    parsed: Sequence[Guide] | None = None,
) -> CollectOutcome:
    """The whole collect stage: pull every chosen source, store what came back, and keep each
    feed's validators for the next run. Shared by `collect`, `run` and `serve`.

    Then, with the arXiv source chosen and no topic filter, a few arXiv title searches for
    the guide's resources named without a link (`linkfresh.stages.named_resources`); their
    failure is recorded as source "arxiv:suggestions" and does not fail the stage.
    `parsed` are the guides when the caller has read them (the cycle reads them once).
    It does not take the run lock: its callers hold it. With `stop` set, no further source is
    started and what was gathered is stored. Unknown topic/source names raise `Fail`.
    """
    settings = app.settings
    plan = plan_collect(app, topics or (), sources or (), parsed=parsed)
    last_seen = {t.name: last_seen_paper(engine, t.name) for t in plan.arxiv_topics}
    feed_states = load_feed_states(engine)
    arxiv_client = build_arxiv_client(settings.arxiv, USER_AGENT, settings.check)

    async def pull() -> CollectOutcome:
        async with http_client(settings.check) as client:
            return await collect_all(settings, plan.topics, plan.arxiv_topics, plan.feeds,
                                     client, arxiv_client, now, last_seen=last_seen,
                                     feed_states=feed_states, on_outcome=on_outcome, stop=stop)

    with recorded_run(engine, "collect", now) as run:
        result = _pull_and_store(app, engine, now, plan, pull, arxiv_client, stop, on_outcome,
                                 parsed)
        run.outcome = RunOutcome.NETWORK_DOWN if result.network_down else RunOutcome.OK
        run.counts = {"sources": len(result.outcomes), "new_papers": len(result.new_papers),
                      "new_posts": len(result.new_posts)}
    return result


def _pull_and_store(
    app: AppContext, engine: Engine, now: datetime, plan: CollectPlan,
    pull: Callable[[], Coroutine[Any, Any, CollectOutcome]], arxiv_client: arxiv.Client,
    stop: threading.Event | None, on_outcome: OnOutcome | None,
    parsed: Sequence[Guide] | None,
) -> CollectOutcome:
    result = asyncio.run(pull())
    if plan.search_named and not _stopped(stop) and not result.network_down:
        searched = search_named_resources(app, engine, arxiv_client, now, parsed)
        if searched is not None:
            result = replace(result, extra=(*result.extra, searched))
            if on_outcome is not None:
                on_outcome(searched)
    new_papers, new_posts = store_collected(engine, result, plan.topics, now)
    save_feed_states(engine, result.outcomes, now)
    return replace(result, new_papers=tuple(new_papers), new_posts=tuple(new_posts))
