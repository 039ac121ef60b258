"""Every news source has a total deadline, and `serve` ends within `shutdown_grace` after
SIGTERM whatever a source does (issue 13, item 3). The servers drip their replies a byte at a
time, which no read timeout ever catches."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from linkfresh.collector.check.wayback import lookup_snapshot
from linkfresh.collector.news.feeds import FeedRetry, collect_feeds
from linkfresh.collector.news.outcomes import FailureKind, SourceOutcome, SourceStatus
from linkfresh.collector.types import Post
from linkfresh.collector.web.client import build_client
from linkfresh.config.settings import CheckSettings, FeedSettings
from tests.configs import write_config
from tests.feed_samples import rss
from tests.servers import LocalServer, Reply, html_page

NewServer = Callable[[], LocalServer]
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
FAST = CheckSettings(allow_private=True, connect_timeout=0.5, read_timeout=0.5)
ITEMS = [("https://blog.example.org/a", "A post", "Wed, 20 Nov 2024 09:00:00 GMT", "x")]


def drip(server: LocalServer, every: float = 0.1) -> Callable[[], Iterable[bytes]]:
    """A body of one space every `every` seconds, until the server stops."""

    def chunks() -> Iterable[bytes]:
        while not server.stopping.wait(every):
            yield b" "

    return chunks


def dripping(server: LocalServer, path: str, content_type: str) -> str:
    return server.route(path, Reply(200, {"Content-Type": content_type}, chunks=drip(server)))


def pull(feeds: list[FeedSettings], retry: FeedRetry,
         should_stop: Callable[[], bool] | None = None
         ) -> tuple[list[Post], list[SourceOutcome], float]:
    async def go() -> tuple[list[Post], list[SourceOutcome]]:
        async with build_client(FAST, default_user_agent="t") as client:
            return await collect_feeds(client, feeds, [], NOW, retry=retry,
                                       should_stop=should_stop)

    started = time.monotonic()
    posts, outcomes = asyncio.run(go())
    return posts, outcomes, time.monotonic() - started


def test_a_dripping_feed_fails_at_its_deadline_and_the_next_is_read(
    new_server: NewServer
) -> None:
    server = new_server()
    slow = dripping(server, "/drip.xml", "application/rss+xml")
    fine = server.route("/fine.xml", Reply(200, {"Content-Type": "application/rss+xml"},
                                           rss(ITEMS)))
    feeds = [FeedSettings(name="Drip", url=slow), FeedSettings(name="Fine", url=fine)]
    posts, outcomes, took = pull(feeds, FeedRetry(retries=0, deadline=1.0))
    assert took < 3
    assert [o.status for o in outcomes] == [SourceStatus.FAILED, SourceStatus.OK]
    assert outcomes[0].failure is FailureKind.NETWORK
    assert "no complete answer within 1 s" in (outcomes[0].reason or "")
    assert [post.source for post in posts] == ["Fine"]


def test_a_stop_ends_the_source_being_read(new_server: NewServer) -> None:
    server = new_server()
    slow = dripping(server, "/drip-stop.xml", "application/rss+xml")
    asked = time.monotonic() + 0.5
    posts, outcomes, took = pull([FeedSettings(name="Drip", url=slow)],
                                 FeedRetry(retries=0, deadline=60.0),
                                 should_stop=lambda: time.monotonic() > asked)
    assert took < 2
    assert (posts, outcomes) == ([], [])  # fewer outcomes than feeds: the run was stopped


def test_a_dripping_archive_answer_fails_at_its_deadline(new_server: NewServer) -> None:
    server = new_server()
    archive = dripping(server, "/wayback/available", "application/json")

    async def go() -> object:
        async with build_client(FAST, default_user_agent="t") as client:
            return await lookup_snapshot(client, "https://gone.example/", base_url=archive,
                                         timeout=1.0)

    started = time.monotonic()
    lookup = asyncio.run(go())
    assert time.monotonic() - started < 3
    assert "did not answer within 1 s" in (getattr(lookup, "error", None) or "")


# -- the daemon ---------------------------------------------------------------------------


def start_serve(folder: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "linkfresh", "serve", "-v"], cwd=folder,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def outcomes(folder: Path, kind: str) -> list[str]:
    try:
        with sqlite3.connect(folder / "state.db", timeout=10) as db:
            rows = db.execute("SELECT outcome FROM run WHERE kind = ? ORDER BY id", (kind,))
            return [outcome for (outcome,) in rows]
    except sqlite3.OperationalError:  # not created yet
        return []


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def sigterm(process: subprocess.Popen[str], within: float) -> tuple[int, str, float]:
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=within + 10)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"serve still running {within + 10:.0f} s after SIGTERM:\n{err}")
    return process.returncode, err, time.monotonic() - began


def serve_config(folder: Path, server: LocalServer, **sources: object) -> None:
    (folder / "guide.md").write_text(f"# G\n\n- [a]({server.route('/g', html_page('G'))})\n")
    write_config(folder, guides=["guide.md"], database="sqlite:///state.db", reports_dir="out",
                 check={"link_deadline": 60, "read_timeout": 60},
                 tables={"schedule": {"check": "0 0 1 1 *", "collect": "* * * * * *",
                                      "digest": "0 0 1 1 *", "shutdown_grace": 1.0},
                         "digest": {"archive_lookup": False}},
                 **sources)


def test_sigterm_during_a_dripping_feed_stops_the_collect_cleanly(
    tmp_path: Path, new_server: NewServer
) -> None:
    server = new_server()
    slow = dripping(server, "/serve-drip.xml", "application/rss+xml")
    serve_config(tmp_path, server, topics=[], feeds=[{"name": "Drip", "url": slow}])
    daemon = start_serve(tmp_path)
    assert wait_for(lambda: server.count("/serve-drip.xml") >= 1), daemon.stderr
    code, err, took = sigterm(daemon, within=1.0)
    assert code == 0, err
    assert took < 3, err
    assert "Traceback" not in err and "stopped" in err
    assert "running it now" not in err.split("received SIGTERM")[-1]
    assert outcomes(tmp_path, "collect")[-1:] == ["ok"]  # what came back is kept
    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("SELECT count(*) FROM run_lock").fetchone()[0] == 0


def test_sigterm_ends_serve_within_the_grace_even_if_a_source_never_yields(
    tmp_path: Path, new_server: NewServer
) -> None:
    server = new_server()
    # arXiv is read without the event loop (its terms make it sequential), so a stop cannot
    # interrupt a request: only the grace period bounds it.
    api = dripping(server, "/api/query", "application/atom+xml")
    serve_config(tmp_path, server, feeds=[],
                 topics=[{"name": "Agents", "arxiv_query": "all:agents"}],
                 arxiv={"base_url": api, "timeout": 60})
    daemon = start_serve(tmp_path)
    assert wait_for(lambda: server.count("/api/query") >= 1), daemon.stderr
    code, err, took = sigterm(daemon, within=1.0)
    assert code == 0, err
    assert took < 4, err
    assert "did not stop within 1s" in err and "Traceback" not in err
