"""`collect`: pull new arXiv papers and blog posts for every topic, store them, and say per
source what happened. Collection (`collect_all`) and storing (`store_collected`) are separate.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import arxiv
import httpx
import typer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from collector.arxiv_source import build_arxiv_client, collect_arxiv
from collector.feeds import FeedState, collect_feeds
from collector.outcomes import SourceKind, SourceOutcome
from collector.topic_seeds import derive_topics
from collector.types import Paper, Post, Topic
from config.bundled import bundled_feeds, bundled_topics
from config.settings import FeedSettings, Settings, TopicSettings
from linkfresh.clients import USER_AGENT, http_client
from linkfresh.context import AppContext, is_bundled
from linkfresh.exitcodes import ExitCode, Fail
from storage.lock import LockHeld, run_lock
from storage.migrations import SchemaError, open_database
from storage.news import (
    last_seen_paper,
    record_source_run,
    sync_topics,
    upsert_papers,
    upsert_posts,
)

ARXIV_SOURCE = "arxiv"
OnOutcome = Callable[[SourceOutcome], None]


@dataclass(frozen=True, slots=True)
class CollectOutcome:
    """Everything one collect run found, and one outcome per source."""

    papers: tuple[Paper, ...]
    posts: tuple[Post, ...]
    outcomes: tuple[SourceOutcome, ...]

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


def to_topic(topic: TopicSettings) -> Topic:
    return Topic(topic.name, topic.arxiv_query, tuple(topic.keywords), topic.section)


def configured_topics(app: AppContext) -> list[Topic]:
    """`[[topics]]`, else the curated list for the bundled guide, else derived from the guides."""
    if app.settings.topics is not None:
        return [to_topic(topic) for topic in app.settings.topics]
    paths = app.guide_paths()
    if all(is_bundled(path) for path in paths):
        return [to_topic(topic) for topic in bundled_topics()]
    derived = [topic for guide in app.load_guides(paths) for topic in derive_topics(guide)]
    return list({topic.name: topic for topic in derived}.values())


def select(names: Sequence[str], known: Sequence[str], what: str) -> set[str]:
    """The chosen names (all when none given); an unknown one is a usage error naming them."""
    if not names:
        return set(known)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise Fail(f"unknown {what} {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    return set(names)


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
    feed_states: dict[str, FeedState] | None = None,
    on_outcome: OnOutcome | None = None,
) -> CollectOutcome:
    """Pull the feeds, then arXiv; posts are matched against all `topics`. Stores nothing."""
    posts, feed_outcomes = await collect_feeds(client, feeds, topics, now, feed_states,
                                               on_outcome)
    papers: tuple[Paper, ...] = ()
    arxiv_outcomes: tuple[SourceOutcome, ...] = ()
    if arxiv_client is not None and arxiv_topics:
        # Deliberately blocking: arXiv's terms make its pulls sequential (one request every
        # 3 s) and the feeds are done by now, so nothing else waits on the loop.
        pull = collect_arxiv(arxiv_client, arxiv_topics, settings.arxiv, now, last_seen,
                             on_outcome=on_outcome)
        papers, arxiv_outcomes = pull.papers, pull.outcomes
    return CollectOutcome(papers, tuple(posts), (*feed_outcomes, *arxiv_outcomes))


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
        record_source_run(db, source_name(outcome), outcome.ok,
                          outcome.reason if not outcome.ok else outcome.status.value,
                          {"items": outcome.items, "new": new}, now=now)
    return new_papers, new_posts


def _progress_reporter(total: int) -> tuple[OnOutcome, Callable[[], None]]:
    """One summary line per source on stdout; a rich bar on stderr when it is a terminal."""
    if not sys.stderr.isatty():
        return (lambda outcome: print(outcome.summary(), flush=True)), (lambda: None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    # Lines stay on stdout; rich only draws them above the bar when stdout is the terminal too.
    bar = Progress("collecting", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), transient=True,
                   redirect_stdout=sys.stdout.isatty())
    task = bar.add_task("sources", total=total)
    bar.start()

    def report(outcome: SourceOutcome) -> None:
        print(outcome.summary(), flush=True)
        bar.advance(task)

    return report, bar.stop


def collect(
    ctx: typer.Context,
    topic: Annotated[list[str] | None, typer.Option(
        "--topic", "-t", help="Only this topic's arXiv pull (repeatable).")] = None,
    source: Annotated[list[str] | None, typer.Option(
        "--source", "-s", help=f"Only this source: {ARXIV_SOURCE!r} or a feed name (repeatable).")
    ] = None,
) -> None:
    """Pull new arXiv papers and blog posts; exit 0 ok, 3 network down, 5 some source failed."""
    app: AppContext = ctx.obj
    settings = app.settings
    topics = configured_topics(app)
    feeds = settings.feeds if settings.feeds is not None else bundled_feeds()
    chosen_topics = select(topic or [], [t.name for t in topics], "topic")
    chosen_sources = select(source or [], [ARXIV_SOURCE, *(f.name for f in feeds)], "source")
    arxiv_topics = [t for t in topics if t.name in chosen_topics and t.arxiv_query]
    if ARXIV_SOURCE not in chosen_sources:
        arxiv_topics = []
    feeds = [feed for feed in feeds if feed.name in chosen_sources]
    now = datetime.now(UTC)
    try:
        engine = open_database(app.database_url())
    except (SchemaError, SQLAlchemyError) as error:
        raise Fail(f"database: {error}", ExitCode.USAGE) from None
    try:
        with run_lock(engine, now, kind="collect"):
            last_seen = {t.name: last_seen_paper(engine, t.name) for t in arxiv_topics}
            report, done = _progress_reporter(len(feeds) + len(arxiv_topics))

            async def go() -> CollectOutcome:
                async with http_client(settings.check) as client:
                    return await collect_all(
                        settings, topics, arxiv_topics, feeds, client,
                        build_arxiv_client(settings.arxiv, USER_AGENT), now,
                        last_seen=last_seen, on_outcome=report)

            try:
                result = asyncio.run(go())
            finally:
                done()
            new_papers, new_posts = store_collected(engine, result, topics, now)
    except LockHeld as held:
        raise Fail(str(held), ExitCode.LOCKED) from None
    finally:
        engine.dispose()
    failed = sum(1 for o in result.outcomes if not o.ok)
    print(f"{len(new_papers)} new papers, {len(new_posts)} new posts from "
          f"{len(result.outcomes)} sources ({failed} failed)")
    if result.network_down:
        raise Fail("no source could be reached: is the network down?", ExitCode.UNVERIFIABLE)
    if result.exit_code is not ExitCode.OK:
        raise typer.Exit(int(result.exit_code))
