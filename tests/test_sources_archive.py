"""Web Archive answers cached in the database: a second digest asks the archive nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

from linkfresh.collector.check.wayback import ArchiveLookup, Snapshot
from linkfresh.context import AppContext
from linkfresh.stages.wayback_lookup import snapshots_for
from linkfresh.storage.migrations import open_database
from linkfresh.storage.sources import cached_snapshots, save_snapshots
from tests.configs import write_config
from tests.servers import LocalServer, Reply, Request

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
FOUND = "https://gone.example/post"
NONE = "https://never.example/page"
FLAKY = "https://flaky.example/x"
SNAPSHOT = "http://web.archive.org/web/20240513091502/https://gone.example/post"


def _availability(request: Request) -> Reply:
    url = parse_qs(request.query)["url"][0]
    if url == FLAKY:
        return Reply(503, {"Content-Type": "text/plain"}, "busy")
    closest = ({"status": "200", "available": True, "url": SNAPSHOT,
                "timestamp": "20240513091502"} if url == FOUND else None)
    body = {"url": url, "archived_snapshots": {"closest": closest} if closest else {}}
    return Reply(200, {"Content-Type": "application/json"}, json.dumps(body))


def _app(tmp_path: Path, archive_url: str, lookup: bool = True) -> AppContext:
    config = write_config(tmp_path, database=f"sqlite:///{tmp_path / 'db.sqlite'}", fast=False,
                          check={"allow_private": True},
                          tables={"digest": {"archive_url": archive_url,
                                             "archive_lookup": lookup}})
    return AppContext(config_path=config)


def test_second_call_makes_no_request_and_failures_are_retried(
    new_server: Callable[[], LocalServer], tmp_path: Path
) -> None:
    server = new_server()
    app = _app(tmp_path, server.route("/wayback/available", _availability))
    engine = open_database(app.database_url())
    expected = {FOUND: (SNAPSHOT.replace("http://", "https://", 1), date(2024, 5, 13))}

    assert snapshots_for(app, engine, [FOUND, NONE, FLAKY], NOW) == expected
    assert server.count("/wayback/available") == 3

    later = NOW + timedelta(days=1)
    assert snapshots_for(app, engine, [FOUND, NONE, FLAKY], later) == expected
    # Only the failed lookup is asked again; "found" and "no copy" came from the cache.
    assert server.count("/wayback/available") == 4
    assert parse_qs(server.requests[-1].query)["url"] == [FLAKY]
    engine.dispose()


def test_lookup_off_asks_nothing(new_server: Callable[[], LocalServer], tmp_path: Path) -> None:
    server = new_server()
    app = _app(tmp_path, server.route("/wayback/available", _availability), lookup=False)
    engine = open_database(app.database_url())
    assert snapshots_for(app, engine, [FOUND], NOW) == {}
    assert server.count("/wayback/available") == 0
    engine.dispose()


def test_cache_ages_out_and_errors_are_not_stored(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    saved = save_snapshots(engine, [
        ArchiveLookup(FOUND, Snapshot("https://web.archive.org/web/1/x", "20240513091502")),
        ArchiveLookup(NONE, None),
        ArchiveLookup(FLAKY, None, "the archive answered HTTP 503"),
    ], NOW)
    assert saved == 2
    found = cached_snapshots(engine, [FOUND, NONE, FLAKY], NOW + timedelta(days=2),
                             timedelta(days=30))
    assert found == {FOUND: ("https://web.archive.org/web/1/x",
                             datetime(2024, 5, 13, 9, 15, 2, tzinfo=UTC)),
                     NONE: (None, None)}
    assert cached_snapshots(engine, [FOUND], NOW + timedelta(days=31), timedelta(days=30)) == {}
    # A newer answer replaces the old one (the URL is unique).
    save_snapshots(engine, [ArchiveLookup(NONE, Snapshot("https://web.archive.org/web/2/y",
                                                         "20250101000000"))], NOW)
    assert cached_snapshots(engine, [NONE], NOW, timedelta(days=1))[NONE][0] == (
        "https://web.archive.org/web/2/y")
    engine.dispose()
