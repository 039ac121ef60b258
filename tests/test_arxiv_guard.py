"""arXiv requests go through the same address guard as everything else, ignore proxy
variables, and have a deadline for the whole reply (issue 13, items 8 and 3)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import pytest

from linkfresh.collector.news.arxiv_source import build_arxiv_client, collect_arxiv
from linkfresh.collector.news.outcomes import FailureKind, SourceOutcome, SourceStatus
from linkfresh.collector.types import Topic
from linkfresh.collector.web import client as http
from linkfresh.config.settings import ArxivSettings, CheckSettings
from tests.arxiv_atom import ATOM_TYPE, entries_before, paging_handler
from tests.servers import LocalServer, Reply

NOW = datetime(2024, 11, 20, 12, 0, tzinfo=UTC)
TOPIC = Topic("Attention", arxiv_query="ti:attention")
NewServer = Callable[[], LocalServer]
GUARDED = CheckSettings(allow_private=False, connect_timeout=0.5, read_timeout=0.5)
LOOPBACK = GUARDED.model_copy(update={"allow_private": True})


def pull(url: str, check: CheckSettings, **arxiv: object) -> SourceOutcome:
    settings = ArxivSettings.model_validate({"base_url": url, "delay": 0, "retries": 0,
                                             "backoff": 0, "timeout": 2} | arxiv)
    client = build_arxiv_client(settings, "linkfresh-test", check)
    [outcome] = collect_arxiv(client, [TOPIC], settings, NOW, sleep=lambda _: None).outcomes
    return outcome


def test_a_base_url_that_redirects_to_a_private_address_is_blocked(
    new_server: NewServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    public, private = new_server(), new_server()
    # Pretend the first server is on the internet; every other address stays private.
    monkeypatch.setattr(http, "is_public_address", lambda address: address == public.host)
    inside = private.route("/api/query", paging_handler({"ti:attention": entries_before(NOW, 2)}))
    outcome = pull(public.route("/api/query", Reply(302, {"Location": inside})), GUARDED)
    assert outcome.status is SourceStatus.FAILED and outcome.failure is FailureKind.BLOCKED
    assert "non-public address" in (outcome.reason or "")
    assert private.count("/api/query") == 0
    assert public.count("/api/query") == 1


def test_a_private_base_url_is_blocked_unless_allowed(new_server: NewServer) -> None:
    server = new_server()
    url = server.route("/api/query", paging_handler({"ti:attention": entries_before(NOW, 2)}))
    assert pull(url, GUARDED).failure is FailureKind.BLOCKED
    assert server.count("/api/query") == 0
    assert pull(url, LOOPBACK).status is SourceStatus.OK


def test_proxy_variables_are_ignored(
    new_server: NewServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, proxy = new_server(), new_server()
    url = server.route("/api/query", paging_handler({"ti:attention": entries_before(NOW, 2)}))
    proxy.route("/api/query", Reply(502))
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy.url("/"))
    outcome = pull(url, LOOPBACK)
    assert outcome.status is SourceStatus.OK and outcome.items == 2
    assert proxy.requests == [] and server.count("/api/query") == 1


def test_a_dripping_reply_fails_at_the_deadline(new_server: NewServer) -> None:
    server = new_server()

    def drip() -> Iterable[bytes]:
        while not server.stopping.wait(0.1):
            yield b" "

    url = server.route("/api/query", Reply(200, {"Content-Type": ATOM_TYPE}, chunks=drip))
    started = time.monotonic()
    outcome = pull(url, LOOPBACK, timeout=1)
    assert time.monotonic() - started < 3
    assert outcome.failure is FailureKind.NETWORK
    assert "no complete reply within 1 s" in (outcome.reason or "")
