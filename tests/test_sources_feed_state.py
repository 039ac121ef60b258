"""Feed validators across runs: sent by the next `collect`; 304 = not modified."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from linkfresh.collector.news.outcomes import FailureKind, SourceKind, SourceOutcome, SourceStatus
from linkfresh.collector.types import FeedState
from linkfresh.storage.migrations import open_database
from linkfresh.storage.sources import load_feed_states, save_feed_states
from tests.arxiv_atom import paging_handler
from tests.cli import run_cli
from tests.feed_samples import RSS_TYPE, rss
from tests.servers import LocalServer, Reply, Request
from tests.test_cmd_collect import write_collect_config

NOW = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
ETAG = '"v1"'
MODIFIED = "Mon, 02 Mar 2026 06:00:00 GMT"


def _outcome(source: str, status: SourceStatus, **values: object) -> SourceOutcome:
    return SourceOutcome(source, SourceKind.FEED, status, **values)  # type: ignore[arg-type]


def test_states_round_trip_and_a_failure_keeps_the_last_good_state(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    saved = save_feed_states(engine, [
        _outcome("Site", SourceStatus.OK, url="https://site.example/feed.xml", etag=ETAG,
                 last_modified=MODIFIED),
        _outcome("Plain", SourceStatus.OK, url="https://plain.example/rss"),
        SourceOutcome("T", SourceKind.ARXIV, SourceStatus.OK,
                      url="https://export.arxiv.org/api/query"),
    ], NOW)
    assert saved == 2
    assert load_feed_states(engine) == {
        "Site": FeedState("https://site.example/feed.xml", ETAG, MODIFIED),
        "Plain": FeedState("https://plain.example/rss"),
    }
    later = NOW + timedelta(days=1)
    save_feed_states(engine, [
        SourceOutcome("Site", SourceKind.FEED, SourceStatus.FAILED, reason="HTTP 500",
                      failure=FailureKind.HTTP, url="https://site.example/"),
        _outcome("Plain", SourceStatus.NOT_MODIFIED, url="https://plain.example/rss",
                 etag='"p2"'),
    ], later)
    states = load_feed_states(engine)
    assert states["Site"] == FeedState("https://site.example/feed.xml", ETAG, MODIFIED)
    assert states["Plain"] == FeedState("https://plain.example/rss", '"p2"')
    engine.dispose()


def test_second_collect_sends_validators_and_304_is_not_modified(
    new_server: Callable[[], LocalServer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = new_server()
    arxiv_url = server.route("/api/query", paging_handler({}))
    feed = rss([("https://blog.example.org/a", "A post", datetime.now(UTC) - timedelta(days=1),
                 "summary")])
    conditional: list[Request] = []

    def answer(request: Request) -> Reply:
        if request.headers.get("If-None-Match") == ETAG:
            conditional.append(request)
            return Reply(304, {"ETag": ETAG})
        return Reply(200, {"Content-Type": RSS_TYPE, "ETag": ETAG, "Last-Modified": MODIFIED},
                     feed)

    config = write_collect_config(tmp_path, arxiv_url, {"Blog": server.route("/feed.xml", answer)})
    first = run_cli(capsys, "--config", str(config), "collect", "--source", "Blog")
    assert first.code == 0, first
    assert "feed Blog: ok, 1 item" in first.out and not conditional

    second = run_cli(capsys, "--config", str(config), "collect", "--source", "Blog")
    assert second.code == 0, second
    assert "feed Blog: not modified" in second.out
    assert len(conditional) == 1
    assert conditional[0].headers.get("If-Modified-Since") == MODIFIED
    assert server.count("/feed.xml") == 2

    engine = open_database(f"sqlite:///{tmp_path / 'news.db'}")
    assert load_feed_states(engine)["Blog"] == FeedState(server.url("/feed.xml"), ETAG, MODIFIED)
    engine.dispose()
