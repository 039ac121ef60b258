"""Web Archive lookups against a real local server: found, none, bad answers, errors, cache."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qs

import httpx
import pytest

from linkfresh.collector.check.wayback import (
    ArchiveLookup,
    lookup_snapshot,
    lookup_snapshots,
    parse_availability,
    query_params,
)
from tests.servers import LocalServer, Reply, Request, closed_port

T = TypeVar("T")
BROKEN = "http://ruder.io/nlp-in-2017-part-2/"
SNAPSHOT = "http://web.archive.org/web/20240513091502/http://ruder.io/nlp-in-2017-part-2/"
FOUND = {
    "url": BROKEN,
    "archived_snapshots": {
        "closest": {"status": "200", "available": True, "url": SNAPSHOT,
                    "timestamp": "20240513091502"}
    },
}


def run(factory: Callable[[httpx.AsyncClient], Coroutine[Any, Any, T]]) -> T:
    async def go() -> T:
        async with httpx.AsyncClient(trust_env=False) as client:
            return await factory(client)

    return asyncio.run(go())


def _json(document: object, status: int = 200) -> Reply:
    return Reply(status, {"Content-Type": "application/json"}, json.dumps(document))


def test_snapshot_found_and_upgraded_to_https(new_server: Callable[[], LocalServer]) -> None:
    server = new_server()
    base = server.route("/wayback/available", _json(FOUND))
    near = datetime(2026, 11, 1, 12, 30, tzinfo=UTC)
    lookup = run(lambda client: lookup_snapshot(client, BROKEN, near=near, base_url=base))
    assert lookup.error is None and lookup.snapshot is not None
    assert lookup.snapshot.url == SNAPSHOT.replace("http://", "https://", 1)
    assert lookup.snapshot.captured_at == datetime(2024, 5, 13, 9, 15, 2, tzinfo=UTC)
    query = parse_qs(server.requests[-1].query)
    assert query == {"url": [BROKEN], "timestamp": ["20261101123000"]}


def test_no_snapshot_is_none_without_error(new_server: Callable[[], LocalServer]) -> None:
    server = new_server()
    base = server.route("/wayback/available", _json({"url": BROKEN, "archived_snapshots": {}}))
    lookup = run(lambda client: lookup_snapshot(client, BROKEN, base_url=base))
    assert lookup == ArchiveLookup(BROKEN, None, None)
    assert "timestamp" not in parse_qs(server.requests[-1].query)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(200, {"Content-Type": "application/json"}, "{not json"), "invalid JSON"),
        (Reply(200, {}, "<html>maintenance</html>"), "invalid JSON"),
        (_json(["a", "list"]), "no archived_snapshots"),
        (_json({"archived_snapshots": {"closest": "nope"}}), "unexpected answer"),
        (Reply(500, {}, "oops"), "HTTP 500"),
        (Reply(429, {"Retry-After": "60"}, ""), "HTTP 429"),
        (Reply(200, {}, b"x" * 70_000), "over 65536 bytes"),
    ],
    ids=["bad-json", "html", "list", "closest-string", "500", "429", "huge"],
)
def test_bad_answers_are_values_with_a_reason(
    server: LocalServer, reply: Reply, reason: str, request: pytest.FixtureRequest
) -> None:
    base = server.route(f"/bad/{request.node.callspec.id}", reply)
    lookup = run(lambda client: lookup_snapshot(client, BROKEN, base_url=base))
    assert lookup.snapshot is None
    assert lookup.error is not None and reason in lookup.error


def test_timeout(server: LocalServer) -> None:
    base = server.route("/slow", Reply(200, {}, "{}", delay=5))
    lookup = run(lambda client: lookup_snapshot(client, BROKEN, base_url=base, timeout=0.3))
    assert lookup.snapshot is None and lookup.error == "the archive did not answer within 0.3 s"


def test_refused() -> None:
    base = f"http://127.0.0.1:{closed_port()}/wayback/available"
    lookup = run(lambda client: lookup_snapshot(client, BROKEN, base_url=base))
    assert lookup.snapshot is None and "could not be reached" in (lookup.error or "")


def test_cache_is_used_and_failures_are_not_cached(server: LocalServer) -> None:
    found = server.route("/cached/found", _json(FOUND))
    cache: dict[str, ArchiveLookup] = {}
    wanted = [(BROKEN, None), ("https://x.example/", datetime(2026, 1, 1, tzinfo=UTC))]
    first = run(lambda client: lookup_snapshots(client, wanted, cache=cache, base_url=found))
    second = run(lambda client: lookup_snapshots(client, wanted, cache=cache, base_url=found))
    assert first == second and len(cache) == 2
    assert server.count("/cached/found") == 2
    calls = 0

    def flaky(_: Request) -> Reply:
        nonlocal calls
        calls += 1
        return Reply(503)

    failing = server.route("/cached/failing", flaky)
    failures: dict[str, ArchiveLookup] = {}
    for _ in range(2):
        run(lambda client: lookup_snapshots(client, [(BROKEN, None)], cache=failures,
                                            base_url=failing))
    assert calls == 2 and failures == {}


@pytest.mark.parametrize(
    ("closest", "found"),
    [
        ({"status": "404", "available": True, "url": SNAPSHOT, "timestamp": "1"}, False),
        ({"status": "301", "available": True, "url": SNAPSHOT, "timestamp": "1"}, False),
        ({"available": False, "url": SNAPSHOT}, False),
        ({"status": "200", "available": True, "url": "javascript:alert(1)"}, False),
        ({"available": True, "url": "https://web.archive.org/web/2/x", "timestamp": "x"}, True),
    ],
)
def test_parse_availability_keeps_only_useful_snapshots(closest: dict[str, object],
                                                        found: bool) -> None:
    lookup = parse_availability(BROKEN, json.dumps({"archived_snapshots": {"closest": closest}})
                                .encode())
    assert lookup.found is found
    if lookup.snapshot is not None:
        assert lookup.snapshot.captured_at is None


def test_query_params_in_utc() -> None:
    naive = datetime(2026, 11, 1, 6, 0)
    assert query_params("u", naive) == {"url": "u", "timestamp": "20261101060000"}
