"""`collect_stage` as `run` and `serve` use it: no lock of its own, stops between sources."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from linkfresh.collector.news.outcomes import SourceOutcome
from linkfresh.context import AppContext
from linkfresh.stages.collect import collect_stage
from linkfresh.storage.lock import run_lock
from linkfresh.storage.migrations import open_database
from linkfresh.storage.models import PostRow, SourceRun
from tests.arxiv_atom import Entry, paging_handler
from tests.feed_samples import RSS_TYPE, rss
from tests.servers import LocalServer, Reply
from tests.test_cmd_collect import write_collect_config

NOW = datetime.now(UTC)


def _setup(new_server: Callable[[], LocalServer], tmp_path: Path,
           database: str | None = None) -> tuple[AppContext, LocalServer]:
    server = new_server()
    arxiv_url = server.route("/api/query", paging_handler(
        {"ti:quantization": [Entry("2411.00001v1", NOW - timedelta(hours=3),
                                     title="Quantization at scale")]}))
    feeds = {}
    for name in ("One", "Two"):
        feeds[name] = server.route(f"/{name}.xml", Reply(200, {"Content-Type": RSS_TYPE}, rss(
            [(f"https://blog.example.org/{name}", f"{name} on pruning", NOW, "pruning")])))
    return (AppContext(config_path=write_collect_config(tmp_path, arxiv_url, feeds, database)),
            server)


def _count(engine: Engine, table: type[SQLModel]) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_stage_runs_under_the_callers_lock_and_stores(
    new_server: Callable[[], LocalServer], tmp_path: Path, db_url: str
) -> None:
    app, _ = _setup(new_server, tmp_path, db_url)
    engine = open_database(app.database_url())
    heard: list[SourceOutcome] = []
    with run_lock(engine, NOW, kind="collect"):  # the stage must not try to take it again
        result = collect_stage(app, engine, NOW, on_outcome=heard.append)
    assert [o.source for o in heard] == ["One", "Two", "Efficient inference", "Alignment",
                                         "suggestions"]
    assert result.new_papers == ("2411.00001",) and len(result.new_posts) == 2
    assert not result.stopped and result.exit_code == 0
    assert _count(engine, SourceRun) == 5
    engine.dispose()


def test_stop_between_sources_stores_what_was_gathered(
    new_server: Callable[[], LocalServer], tmp_path: Path, db_url: str
) -> None:
    app, server = _setup(new_server, tmp_path, db_url)
    engine = open_database(app.database_url())
    stop = threading.Event()

    def first_then_stop(outcome: SourceOutcome) -> None:
        stop.set()

    result = collect_stage(app, engine, NOW, stop=stop, on_outcome=first_then_stop)
    assert result.stopped
    assert [o.source for o in result.outcomes] == ["One"]
    assert server.count("/Two.xml") == 0 and server.count("/api/query") == 0
    assert _count(engine, PostRow) == 1 and _count(engine, SourceRun) == 1
    engine.dispose()


def test_topic_and_source_filters(
    new_server: Callable[[], LocalServer], tmp_path: Path, db_url: str
) -> None:
    app, _ = _setup(new_server, tmp_path, db_url)
    engine = open_database(app.database_url())
    result = collect_stage(app, engine, NOW, topics=["Alignment"], sources=["arxiv"])
    assert [o.source for o in result.outcomes] == ["Alignment"]
    engine.dispose()


def test_stop_after_the_last_source_skips_the_suggestion_searches(
    new_server: Callable[[], LocalServer], tmp_path: Path, db_url: str
) -> None:
    app, server = _setup(new_server, tmp_path, db_url)
    engine = open_database(app.database_url())
    stop = threading.Event()

    def stop_after_arxiv(outcome: SourceOutcome) -> None:
        if outcome.source == "Alignment":
            stop.set()

    result = collect_stage(app, engine, NOW, stop=stop, on_outcome=stop_after_arxiv)
    assert len(result.outcomes) == 4 and result.extra == ()
    assert server.count("/api/query") == 2  # the two topics, no title search
    engine.dispose()
