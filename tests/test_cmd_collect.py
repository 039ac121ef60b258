"""`linkfresh collect` end to end: local arXiv and feed servers, a temporary SQLite database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkfresh.collector.news.outcomes import FailureKind, SourceKind, SourceOutcome, SourceStatus
from linkfresh.exitcodes import ExitCode
from linkfresh.stages.collect import CollectOutcome
from linkfresh.storage.migrations import open_database
from linkfresh.storage.models import PaperRow, PostRow, SourceRun
from tests.arxiv_atom import Entry, paging_handler
from tests.cli import run_cli
from tests.configs import write_config
from tests.feed_samples import RSS_TYPE, rss
from tests.servers import LocalServer, Reply, closed_port, in_turn

ServerFactory = Callable[[], LocalServer]
NOW = datetime.now(UTC)


TOPICS = [
    {"name": "Efficient inference", "arxiv_query": "ti:quantization",
     "keywords": ["quantization", "pruning"]},
    {"name": "Alignment", "arxiv_query": "ti:alignment", "keywords": ["alignment", "rlhf"]},
]


def write_collect_config(tmp_path: Path, arxiv_url: str, feed_urls: dict[str, str],
                         database: str | None = None) -> Path:
    """Two topics, the given feeds, arXiv at `arxiv_url`, the database in `tmp_path` (or at
    `database`)."""
    feeds = [{"name": name, "url": url, "kind": "feed"} for name, url in feed_urls.items()]
    return write_config(tmp_path, database=database or f"sqlite:///{tmp_path / 'news.db'}",
                        arxiv={"base_url": arxiv_url, "timeout": 0.5}, topics=TOPICS,
                        feeds=feeds)


def counts(tmp_path: Path) -> tuple[int, int, int]:
    engine = open_database(f"sqlite:///{tmp_path / 'news.db'}")
    with Session(engine) as session:
        found = (session.scalar(select(func.count()).select_from(PaperRow)) or 0,
                 session.scalar(select(func.count()).select_from(PostRow)) or 0,
                 session.scalar(select(func.count()).select_from(SourceRun)) or 0)
    engine.dispose()
    return found


def test_first_run_stores_second_run_only_new(
    new_server: ServerFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = new_server()
    day = NOW - timedelta(days=1)
    # Titles that the topics' keywords find: results are re-scored, not taken as they come.
    by_query = {"ti:quantization": [Entry("2411.00001v1", day, title="Quantization"),
                                    Entry("2411.00002v1", day, title="Pruning"),
                                    Entry("2411.00009v1", day, title="Bread baking")],
                "ti:alignment": []}
    arxiv_url = server.route("/api/query", paging_handler(by_query))
    items = [("https://blog.example.org/q", "Quantization tricks", day, "pruning too")]
    feed = Reply(200, {"Content-Type": RSS_TYPE}, rss(items))
    server.route("/rss", lambda _request: feed)
    config = write_collect_config(tmp_path, arxiv_url, {"Blog": server.url("/rss")})

    first = run_cli(capsys, "--config", str(config), "collect")
    assert first.code == 0, first
    assert "feed Blog: ok, 1 item" in first.out
    assert "arxiv Efficient inference: ok, 2 items [2 of 3 relevant]" in first.out
    assert "2 new papers, 1 new post from 3 sources (0 failed)" in first.out
    # Three sources, and the arXiv searches for the bundled guide's papers named without a link.
    assert "arxiv suggestions: ok" in first.out
    assert counts(tmp_path) == (2, 1, 4)

    # A new version of a known paper (under another topic), a new paper, a new post.
    by_query["ti:alignment"] += [Entry("2411.00001v2", day, title="Quantization and RLHF"),
                                 Entry("2411.00003v1", NOW - timedelta(hours=1),
                                       title="Alignment")]
    items.append(("https://blog.example.org/r?utm_source=rss", "RLHF notes", day, "alignment"))
    feed.body = rss(items)
    second = run_cli(capsys, "--config", str(config), "collect")
    assert second.code == 0, second
    assert "1 new paper, 1 new post from" in second.out
    assert counts(tmp_path)[:2] == (3, 2)
    engine = open_database(f"sqlite:///{tmp_path / 'news.db'}")
    with Session(engine) as session:
        versions = dict(session.execute(select(PaperRow.arxiv_id, PaperRow.version)).all())
    engine.dispose()
    assert versions == {"2411.00001": 2, "2411.00002": 1, "2411.00003": 1}


def test_some_source_failed_exits_5_and_keeps_what_was_stored(
    new_server: ServerFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = new_server()
    arxiv_url = server.route("/api/query", paging_handler({}))
    good = server.route("/rss", Reply(200, {"Content-Type": RSS_TYPE}, rss(
        [("https://blog.example.org/a", "A", NOW - timedelta(days=1), "x")])))
    bad = server.route("/broken", Reply(200, {"Content-Type": "text/html"}, "<html>nope</html>"))
    config = write_collect_config(tmp_path, arxiv_url, {"Good": good, "Broken": bad})

    result = run_cli(capsys, "--config", str(config), "collect")
    assert result.code == ExitCode.SOURCES_FAILED == 5
    assert "feed Broken: FAILED (content)" in result.out
    assert counts(tmp_path)[1] == 1

    only = run_cli(capsys, "--config", str(config), "collect", "--source", "Good")
    assert only.code == 0 and "Broken" not in only.out


def test_a_feed_that_fails_once_is_retried_within_the_collect(
    new_server: ServerFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = new_server()
    feed = Reply(200, {"Content-Type": RSS_TYPE}, rss(
        [("https://blog.example.org/a", "A", NOW - timedelta(days=1), "x")]))
    url = server.route("/flaky", in_turn(Reply(503), feed))
    config = write_collect_config(tmp_path, server.url("/api/query"), {"Flaky": url})
    result = run_cli(capsys, "--config", str(config), "collect", "--source", "Flaky")
    assert result.code == 0, result
    assert "feed Flaky: ok, 1 item" in result.out
    assert server.count("/flaky") == 2  # [check] retries = 1 applies to feeds too


def test_network_down_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    down = f"http://127.0.0.1:{closed_port()}"
    config = write_collect_config(tmp_path, f"{down}/api/query", {"Blog": f"{down}/rss"})
    result = run_cli(capsys, "--config", str(config), "collect")
    assert result.code == ExitCode.UNVERIFIABLE == 3
    assert "network" in result.err


def test_unknown_topic_or_source_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_collect_config(tmp_path, "http://127.0.0.1:9/api/query", {})
    result = run_cli(capsys, "--config", str(config), "collect", "--topic", "Nope")
    assert result.code == 2 and "unknown topic 'Nope'" in result.err
    result = run_cli(capsys, "--config", str(config), "collect", "--source", "Nope")
    assert result.code == 2 and "known: arxiv" in result.err


def _outcome(status: SourceStatus, failure: FailureKind | None = None) -> SourceOutcome:
    return SourceOutcome("s", SourceKind.FEED, status, failure=failure)


@pytest.mark.parametrize(("statuses", "code"), [
    ([], ExitCode.OK),
    ([(SourceStatus.OK, None), (SourceStatus.NOT_MODIFIED, None)], ExitCode.OK),
    ([(SourceStatus.OK, None), (SourceStatus.FAILED, FailureKind.NETWORK)],
     ExitCode.SOURCES_FAILED),
    ([(SourceStatus.FAILED, FailureKind.HTTP), (SourceStatus.FAILED, FailureKind.NETWORK)],
     ExitCode.SOURCES_FAILED),
    ([(SourceStatus.FAILED, FailureKind.NETWORK)] * 2, ExitCode.UNVERIFIABLE),
])
def test_exit_codes(statuses: list[tuple[SourceStatus, FailureKind | None]],
                    code: ExitCode) -> None:
    outcome = CollectOutcome((), (), tuple(_outcome(s, f) for s, f in statuses))
    assert outcome.exit_code is code
