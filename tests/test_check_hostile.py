"""The checker on a hostile web (issues 13 and 15): a stall costs one timeout (a read
timeout is not retried unless configured), a host that stalled is not waited on in full
again, a dripping body costs the body deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

import pytest

from linkfresh.collector.types import LinkState
from linkfresh.collector.web.retry import Failure, Retry, retry_plan
from linkfresh.config.settings import CheckSettings
from tests.servers import LocalServer, Reply
from tests.test_checker import FAST, check, one

NewServer = Callable[[], LocalServer]
PAGE_HEAD = (b"<!doctype html><html><head><title>Dripping</title></head><body>"
             b"<h1 id='top'>Dripping</h1>")


def dripping(stop: threading.Event, every: float = 0.1) -> Reply:
    """200 text/html whose head comes at once, then a few bytes every `every` s, forever
    (until the server stops): headers sent, body never finished."""

    def pieces() -> Iterable[bytes]:
        yield PAGE_HEAD
        n = 0
        while not stop.wait(every):
            n += 1
            yield f"<p id='p{n}'>{n}</p>".encode()

    return Reply(200, {"Content-Type": "text/html; charset=utf-8"}, chunks=pieces)


def silent_after_headers(stop: threading.Event) -> Reply:
    """200 text/html: the head of the page, then nothing more (the connection stays open)."""

    def pieces() -> Iterable[bytes]:
        yield PAGE_HEAD
        stop.wait(30)

    return Reply(200, {"Content-Type": "text/html; charset=utf-8"}, chunks=pieces)


def test_timeouts_cost_at_most_what_the_rule_allows_whatever_retries_says() -> None:
    options = {"retries": 5, "backoff": 1.0, "dns_pause": 2.0, "retry_after": None}
    connect, read = Failure.CONNECT_TIMEOUT, Failure.TIMEOUT
    assert retry_plan(None, connect, 0, **options).kind is Retry.BACKOFF
    assert retry_plan(None, connect, 1, **options).kind is Retry.NO
    assert retry_plan(None, read, 0, **options).kind is Retry.NO
    assert retry_plan(None, read, 0, timeout_retries=1, **options).kind is Retry.BACKOFF
    assert retry_plan(None, read, 1, timeout_retries=1, **options).kind is Retry.NO
    assert retry_plan(None, read, 0, timeout_retries=2, retries=0, backoff=1.0, dns_pause=2.0,
                      retry_after=None).kind is Retry.NO  # `retries` still bounds it
    assert retry_plan(None, Failure.RESET, 4, **options).kind is Retry.BACKOFF


@pytest.mark.parametrize(("timeout_retries", "asked"), [(0, 1), (1, 2)])
def test_a_stalled_page_is_asked_once_by_default(
    new_server: NewServer, timeout_retries: int, asked: int
) -> None:
    server = new_server()
    settings = FAST.model_copy(update={"read_timeout": 0.3, "retries": 3,
                                       "timeout_retries": timeout_retries})
    path = f"/stall-asked-{timeout_retries}"
    result = one(server.route(path, Reply(delay=30)), settings)
    assert (result.state, result.error_class) == (LinkState.TIMEOUT, "timeout")
    assert server.count(path) == asked
    assert result.requests == asked  # a request that got no headers still counts


def test_a_host_that_stalled_gets_the_shorter_timeout(new_server: NewServer) -> None:
    server = new_server()
    settings = FAST.model_copy(update={
        "read_timeout": 1.0, "stalled_host_timeout": 0.2, "per_host": 1, "retries": 3,
        "timeout_retries": 1, "link_deadline": 10,
    })
    urls = [server.route(f"/stall-{n}", Reply(delay=30)) for n in range(3)]
    page = server.route("/fine", Reply(200, {"Content-Type": "text/plain"}, "fine", delay=0.05))
    started = time.monotonic()
    results = check([*urls, page], settings)
    took = time.monotonic() - started
    assert [r.state for r in results] == [LinkState.TIMEOUT] * 3 + [LinkState.OK]
    # The first stall waits 1 s, its retry and every later stall on the host 0.2 s each:
    # 1 + 0.2 + 2 * (0.2 + 0.2), not 3 * (1 + 1).
    first, *later = (r.elapsed_ms for r in results[:3])
    assert first >= 1000 and all(ms < 800 for ms in later), (first, later)
    assert took < 4.5  # about 2.1 s; the full timeouts would take 6


def test_another_host_keeps_the_full_timeout(new_server: NewServer) -> None:
    stalling, other = new_server(), new_server()
    settings = FAST.model_copy(update={
        "read_timeout": 0.8, "stalled_host_timeout": 0.1, "retries": 0, "link_deadline": 10,
    })
    stall = stalling.route("/stall", Reply(delay=30))
    slowish = other.route("/slowish", Reply(200, {"Content-Type": "text/plain"}, "ok", delay=0.4))
    results = check([stall, slowish], settings)
    assert [r.state for r in results] == [LinkState.TIMEOUT, LinkState.OK]


def test_a_dripping_page_costs_the_body_deadline_and_is_ok(new_server: NewServer) -> None:
    server = new_server()
    stop = threading.Event()
    try:
        settings = FAST.model_copy(update={"read_timeout": 2.0, "body_deadline": 0.5})
        url = server.route("/drip", dripping(stop))
        started = time.monotonic()
        result = one(url, settings)
        took = time.monotonic() - started
    finally:
        stop.set()
    assert (result.state, result.status, result.title) == (LinkState.OK, 200, "Dripping")
    assert result.detail is not None and "body deadline" in result.detail
    assert result.requests == 1 and server.count("/drip") == 1
    assert 0.5 <= took < 3.0  # the deadline, not the endless body


def test_a_fragment_on_a_dripping_page_is_judged_on_what_arrived(new_server: NewServer) -> None:
    server = new_server()
    stop = threading.Event()
    try:
        settings = FAST.model_copy(update={"read_timeout": 2.0, "body_deadline": 0.4})
        url = server.route("/drip-anchors", dripping(stop, every=0.05))
        found, unseen = check([f"{url}#top", f"{url}#not-yet"], settings)
    finally:
        stop.set()
    assert found.state is LinkState.OK
    # The anchor may come later in a body that never ended: not proof that it is absent.
    assert unseen.state is LinkState.OK and "judged on" in (unseen.detail or "")
    assert server.count("/drip-anchors") == 1


def test_a_body_that_stops_after_the_headers_is_ok_not_timeout(new_server: NewServer) -> None:
    server = new_server()
    stop = threading.Event()
    try:
        settings = FAST.model_copy(update={"read_timeout": 0.3, "body_deadline": 5.0})
        result = one(server.route("/half", silent_after_headers(stop)), settings)
    finally:
        stop.set()
    assert (result.state, result.title) == (LinkState.OK, "Dripping")
    assert "read timeout" in (result.detail or "")
    assert server.count("/half") == 1


def test_body_deadline_and_stalled_host_timeout_are_settings() -> None:
    defaults = CheckSettings()
    assert (defaults.body_deadline, defaults.stalled_host_timeout,
            defaults.timeout_retries) == (10.0, 5.0, 0)
    with pytest.raises(ValueError, match="body_deadline"):
        CheckSettings(body_deadline=0)
