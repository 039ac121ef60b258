"""The link checker against real loopback servers: one case per behaviour of issue 3."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable
from typing import Any

import pytest
import trustme

from linkfresh.collector.check.checker import check_urls
from linkfresh.collector.check.netdown import mark_unverifiable, network_down
from linkfresh.collector.check.order import slow_share
from linkfresh.collector.check.stalls import UnreachableHosts
from linkfresh.collector.types import CheckResult, LinkState, Validators
from linkfresh.collector.web import client as http
from linkfresh.collector.web.client import build_client
from linkfresh.collector.web.retry import Failure
from linkfresh.config.settings import CheckSettings
from tests.servers import (
    HeldOpen,
    LocalServer,
    Reply,
    Request,
    closed_port,
    endless,
    gzip_bomb,
    html_page,
    in_turn,
)

FAST = CheckSettings(
    allow_private=True, connect_timeout=0.5, read_timeout=0.5, link_deadline=5, retries=2,
    backoff=0.01, dns_retry_pause=0.01, retry_after_cap=2,
)
NewServer = Callable[[], LocalServer]


def check(urls: list[str], settings: CheckSettings = FAST, **options: Any) -> list[CheckResult]:
    async def go() -> list[CheckResult]:
        async with build_client(settings, default_user_agent="linkfresh/test") as client:
            return await check_urls(urls, client, settings, **options)

    return asyncio.run(go())


def one(url: str, settings: CheckSettings = FAST, **options: Any) -> CheckResult:
    [result] = check([url], settings, **options)
    return result


def redirect(status: int, to: str) -> Reply:
    return Reply(status, {"Location": to})


def test_200_is_ok_in_one_request(new_server: NewServer) -> None:
    server = new_server()
    result = one(server.route("/ok", html_page("Hello")))
    assert (result.state, result.status, result.title, result.requests) == (
        LinkState.OK, 200, "Hello", 1)


@pytest.mark.parametrize("status", [301, 308])
def test_permanent_redirect_chain_is_redirected(new_server: NewServer, status: int) -> None:
    server = new_server()
    server.route("/c", html_page("Final"))
    server.route("/b", redirect(status, "/c"))
    result = one(server.route("/a", redirect(status, server.url("/b"))))
    assert result.state is LinkState.REDIRECTED
    assert result.final_url == server.url("/c")
    assert [(h.status, h.location) for h in result.chain] == [
        (status, server.url("/b")), (status, server.url("/c"))]


def test_temporary_redirect_is_ok_with_its_chain(new_server: NewServer) -> None:
    server = new_server()
    server.route("/there", html_page("There"))
    result = one(server.route("/here", redirect(302, "/there")))
    assert result.state is LinkState.OK
    assert result.final_url == server.url("/there") and len(result.chain) == 1


def test_redirect_loop_is_broken(new_server: NewServer) -> None:
    server = new_server()
    server.route("/ping", redirect(302, "/pong"))
    result = one(server.route("/pong", redirect(302, "/ping")))
    assert (result.state, result.error_class) == (LinkState.BROKEN, "redirect-loop")


def test_cross_host_redirect(new_server: NewServer) -> None:
    a, b = new_server(), new_server()
    target = b.route("/moved-here", html_page("B"))
    result = one(a.route("/go", redirect(302, target)))
    assert (result.state, result.final_url) == (LinkState.OK, target)
    assert b.count("/moved-here") == 1


@pytest.mark.parametrize("status", [404, 410])
def test_gone_is_broken(new_server: NewServer, status: int) -> None:
    server = new_server()
    result = one(server.route(f"/gone{status}", Reply(status)))
    assert (result.state, result.status) == (LinkState.BROKEN, status)
    assert server.count(f"/gone{status}") == 1  # not retried


def test_500_then_ok(new_server: NewServer) -> None:
    server = new_server()
    result = one(server.route("/flaky", in_turn(Reply(500), html_page("Back"))))
    assert (result.state, result.requests) == (LinkState.OK, 2)


def test_503_always_is_error_after_retries(new_server: NewServer) -> None:
    server = new_server()
    result = one(server.route("/down", Reply(503)))
    assert (result.state, result.status) == (LinkState.ERROR, 503)
    assert server.count("/down") == FAST.retries + 1


def test_429_with_retry_after_then_ok(new_server: NewServer) -> None:
    server = new_server()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    url = server.route("/busy", in_turn(Reply(429, {"Retry-After": "1"}), html_page("Fine")))
    result = one(url, sleep=sleep)
    assert result.state is LinkState.OK
    assert slept and 0.5 < max(slept) <= 1.0  # the host waited what it was asked


def test_429_forever_is_unverified_not_broken(new_server: NewServer) -> None:
    server = new_server()
    result = one(server.route("/limited", Reply(429)))
    assert (result.state, result.status) == (LinkState.UNVERIFIED, 429)


def test_retry_after_past_the_cap_is_unverified_at_once(new_server: NewServer) -> None:
    server = new_server()
    result = one(server.route("/later", Reply(429, {"Retry-After": "3600"})))
    assert result.state is LinkState.UNVERIFIED and "exceeds the cap" in (result.detail or "")
    assert server.count("/later") == 1


@pytest.mark.parametrize("head_status", [405, 404])
def test_doubtful_head_is_confirmed_with_get(new_server: NewServer, head_status: int) -> None:
    server = new_server()

    def handler(request: Request) -> Reply:
        if request.method == "HEAD":
            return Reply(head_status)
        return Reply(200, {"Content-Type": "application/pdf"}, b"%PDF-1.7")

    result = one(server.route(f"/paper{head_status}.pdf", handler))
    assert (result.state, result.status) == (LinkState.OK, 200)
    assert server.count(f"/paper{head_status}.pdf", "HEAD") == 1
    assert server.count(f"/paper{head_status}.pdf", "GET") == 1


def test_head_decides_for_a_healthy_file(new_server: NewServer) -> None:
    server = new_server()
    url = server.route("/data.zip", Reply(200, {"Content-Type": "application/zip"}, b"PK"))
    assert one(url).state is LinkState.OK
    assert server.count("/data.zip", "GET") == 0


def test_403_for_non_browser_agents_is_unverified(new_server: NewServer) -> None:
    server = new_server()

    def handler(request: Request) -> Reply:
        if "Mozilla" not in request.headers.get("User-Agent", ""):
            return Reply(403, {"Content-Type": "text/html"}, "<title>Forbidden</title>")
        return html_page("Welcome")

    result = one(server.route("/picky", handler))
    assert (result.state, result.status) == (LinkState.UNVERIFIED, 403)


def test_cloudflare_challenge_is_unverified(new_server: NewServer) -> None:
    server = new_server()
    challenge = html_page("Just a moment...")
    challenge.status, challenge.headers["cf-mitigated"] = 403, "challenge"
    result = one(server.route("/cf", challenge))
    assert result.state is LinkState.UNVERIFIED and "cf-mitigated" in (result.detail or "")


def test_challenge_title_on_a_200_is_unverified(new_server: NewServer) -> None:
    server = new_server()
    result = one(server.route("/wall", html_page("Just a moment...")))
    assert result.state is LinkState.UNVERIFIED


def test_soft_404_by_title_is_broken(new_server: NewServer) -> None:
    server = new_server()
    result = one(server.route("/soft", html_page("Page Not Found | Example")))
    assert result.state is LinkState.BROKEN and "soft 404" in (result.detail or "")


def test_deep_link_redirected_to_root_is_broken(new_server: NewServer) -> None:
    server = new_server()
    server.route("/", html_page("Home"))
    result = one(server.route("/blog/2019/old-post", redirect(302, "/")))
    assert result.state is LinkState.BROKEN and "site root" in (result.detail or "")


def test_soft_404_probe_same_landing_page(new_server: NewServer) -> None:
    server = new_server()

    class CatchAll(dict[str, Any]):
        def get(self, path: str, default: Any = None) -> Any:
            return super().get(path, redirect(302, "/landing"))

    server.routes = CatchAll({"/landing": html_page("Our products")})
    result = one(server.url("/docs/removed-page"))
    assert result.state is LinkState.BROKEN and "nonexistent path" in (result.detail or "")


def test_fragments_share_one_fetch(new_server: NewServer) -> None:
    server = new_server()
    body = '<h2 id="usage">Usage</h2><a name="old-style"></a>' \
           '<h2 id="user-content-install">Install</h2>'
    url = server.route("/doc", html_page("Doc", body))
    results = check([url + "#usage", url + "#old-style", url + "#install", url + "#missing", url,
                     url + "#usage"])
    states = {r.url.rpartition("#")[2] if "#" in r.url else "": r.state for r in results}
    assert states == {"usage": LinkState.OK, "old-style": LinkState.OK,
                      "install": LinkState.OK, "missing": LinkState.BROKEN, "": LinkState.OK}
    assert server.count("/doc") == 1


def test_text_fragment_and_line_anchor_are_not_checked(new_server: NewServer) -> None:
    server = new_server()
    url = server.route("/code", html_page("Code"))
    results = check([url + "#L10-L20", url + "#:~:text=hello"])
    assert {r.state for r in results} == {LinkState.OK}


def test_endless_body_costs_at_most_the_cap(new_server: NewServer) -> None:
    server = new_server()
    url = server.route("/endless", Reply(200, {"Content-Type": "text/html"}, chunks=endless()))
    result = one(url + "#somewhere")  # a fragment makes it read up to max_body_bytes
    assert result.state is LinkState.OK  # not found in a truncated page is not proof
    assert result.elapsed_ms < 2000


def test_gzip_bomb_is_read_within_the_cap(new_server: NewServer) -> None:
    server = new_server()
    result = one(server.route("/bomb", gzip_bomb(64 * 1024 * 1024)) + "#x")
    assert result.state is LinkState.OK
    assert result.elapsed_ms < 2000


def test_stalled_server_times_out(new_server: NewServer) -> None:
    server = new_server()
    settings = FAST.model_copy(update={"read_timeout": 0.2, "retries": 1})
    result = one(server.route("/stall", Reply(delay=30)), settings)
    assert (result.state, result.error_class) == (LinkState.TIMEOUT, "timeout")
    assert result.elapsed_ms < 2000


def test_link_deadline_bounds_retries(new_server: NewServer) -> None:
    server = new_server()
    # Resets are retried up to `retries` times (timeouts only once): the deadline stops them.
    settings = FAST.model_copy(update={"retries": 10, "link_deadline": 0.5})
    result = one(server.route("/slow-reset", Reply(delay=0.15, reset=True)), settings)
    assert (result.state, result.error_class) == (LinkState.TIMEOUT, "deadline")
    assert server.count("/slow-reset") < 10


def test_connection_reset_is_retried_then_error(new_server: NewServer) -> None:
    server = new_server()
    result = one(server.route("/reset", Reply(reset=True)))
    assert (result.state, result.error_class) == (LinkState.ERROR, "reset")
    assert server.count("/reset") == FAST.retries + 1
    assert result.requests == FAST.retries + 1  # each went out, though no headers came back
    healed = one(server.route("/reset-once", in_turn(Reply(reset=True), html_page("ok"))))
    assert healed.state is LinkState.OK


def test_refused_port_is_broken_after_one_retry() -> None:
    result = one(f"http://127.0.0.1:{closed_port()}/")
    assert (result.state, result.error_class, result.requests) == (
        LinkState.BROKEN, "refused", 0)


def test_a_host_refusing_twice_is_not_paused_for_again() -> None:
    """The first link of a closed host is tried, paused for and tried again; once that
    retry is refused too, the host's other links are asked once, without the pause."""
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    port = closed_port("127.0.1.20")
    urls = [f"http://127.0.1.20:{port}/page{n}" for n in range(6)]
    settings = FAST.model_copy(update={"per_host": 1, "dns_retry_pause": 2.0})
    results = check(urls, settings, sleep=sleep)
    assert [(r.state, r.error_class) for r in results] == [(LinkState.BROKEN, "refused")] * 6
    assert pauses == [2.0]


def test_known_slow_pages_hold_at_most_their_share_of_the_connections(
    new_server: NewServer,
) -> None:
    """Slow last time, started first, but never on more connections than their share (half
    here): the quick pages are not left waiting behind them."""
    server = new_server()
    slow_page = HeldOpen(html_page("Slow"), 0.2)
    slow = [server.route(f"/share/slow{n}", slow_page) for n in range(6)]
    quick = [server.route(f"/share/quick{n}", html_page("Quick")) for n in range(30)]
    expected = {**dict.fromkeys(slow, 1.0), **dict.fromkeys(quick, 0.5)}  # 6 s of 21 s
    settings = FAST.model_copy(update={"concurrency": 8, "per_host": 8})
    assert slow_share(expected, expected, 8) == 4  # 3 by the work, raised to half
    results = check([*quick, *slow], settings, expected_seconds=expected)
    assert {r.state for r in results} == {LinkState.OK}
    assert slow_page.peak == 4


def test_unreachable_hosts_are_those_refused_on_a_retry() -> None:
    hosts = UnreachableHosts()
    hosts.saw("a:80", Failure.REFUSED, attempt=0)  # once: may be a flake, the pause decides
    assert not hosts.known_down("a:80", Failure.REFUSED)
    hosts.saw("a:80", Failure.REFUSED, attempt=1)
    hosts.saw("b:80", Failure.RESET, attempt=1)  # an answer cut short: not "nothing there"
    assert hosts.known_down("a:80", Failure.REFUSED) and hosts.known_down("a:80", Failure.NO_HOST)
    assert not hosts.known_down("a:80", Failure.RESET) and not hosts.known_down("a:80", None)
    assert not hosts.known_down("b:80", Failure.REFUSED)


def test_unknown_host_is_broken(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_such_host(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(http, "system_resolver", no_such_host)
    result = one("http://no-such-host.example/")
    assert (result.state, result.error_class) == (LinkState.BROKEN, "no-host")


def test_redirect_to_private_address_is_refused(
    new_server: NewServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    public, private = new_server(), new_server()
    # Pretend the first server is on the internet; every other address stays private.
    monkeypatch.setattr(http, "is_public_address", lambda address: address == public.host)
    secret = private.route("/admin", html_page("Internal"))
    settings = FAST.model_copy(update={"allow_private": False})
    for target in (secret, "http://169.254.169.254/latest/meta-data/"):
        result = one(public.route("/innocent", redirect(302, target)), settings)
        assert (result.state, result.error_class) == (LinkState.BROKEN, "blocked")
        assert result.chain[0].location == target
    assert private.count("/admin") == 0


def test_conditional_request_304_is_ok(new_server: NewServer) -> None:
    server = new_server()

    def handler(request: Request) -> Reply:
        if request.headers.get("If-None-Match") == '"v1"':
            return Reply(304, {"ETag": '"v1"'})
        return Reply(200, {"ETag": '"v1"', "Content-Type": "text/html"}, "<title>x</title>")

    url = server.route("/cached", handler)
    result = one(url, validators={url: Validators(etag='"v1"')})
    assert (result.state, result.status, result.etag) == (LinkState.OK, 304, '"v1"')


def test_skipped_urls_are_never_fetched(new_server: NewServer) -> None:
    server = new_server()
    url = server.route("/private-notes", html_page("x"))
    settings = FAST.model_copy(update={"exclude": ["private-notes"]})
    results = check([url, "mailto:someone@example.com", "ftp://example.com/f"], settings)
    assert {r.state for r in results} == {LinkState.SKIPPED}
    assert server.count("/private-notes") == 0


def test_per_host_concurrency_is_respected(new_server: NewServer) -> None:
    server = new_server()
    slow = HeldOpen(html_page("slow"), 0.05)
    urls = [server.route(f"/p{i}", slow) for i in range(12)]
    settings = FAST.model_copy(update={"per_host": 2})
    assert {r.state for r in check(urls, settings)} == {LinkState.OK}
    assert slow.peak <= 2


def test_slowest_url_last_time_is_requested_first(new_server: NewServer) -> None:
    server = new_server()
    urls = [server.route(f"/order{i}", html_page("p")) for i in range(4)]
    settings = FAST.model_copy(update={"concurrency": 1, "per_host": 1})
    check(urls, settings, expected_seconds={f"{urls[2]}#part": 3.0, urls[1]: 0.5})
    order = [request.path for request in server.requests if request.path.startswith("/order")]
    assert order == ["/order2", "/order1", "/order0", "/order3"]


def test_progress_is_reported_per_result(new_server: NewServer) -> None:
    server = new_server()
    urls = [server.route(f"/prog{i}", html_page("p")) for i in range(3)]
    seen: list[tuple[int, int]] = []
    check([*urls, "mailto:x@example.com"],
          progress=lambda _result, done, total: seen.append((done, total)))
    assert sorted(seen) == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_network_down_when_every_host_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_dns(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(http, "system_resolver", no_dns)
    hosts = [f"127.0.1.{n}" for n in range(1, 5)]
    urls = [f"http://{host}:{closed_port(host)}/page" for host in hosts]
    results = check([*urls, "https://arxiv.org/abs/1706.03762", "mailto:a@b.c"])
    assert network_down(results)
    calmed = mark_unverifiable(results)
    assert LinkState.BROKEN not in {r.state for r in calmed}
    assert {r.state for r in calmed} == {LinkState.UNVERIFIED, LinkState.SKIPPED}


def test_one_live_host_means_the_network_is_up(new_server: NewServer) -> None:
    server = new_server()
    live = server.route("/alive", html_page("alive"))
    results = check([live, f"http://127.0.1.9:{closed_port('127.0.1.9')}/"])
    assert not network_down(results)
    assert [r.state for r in results] == [LinkState.OK, LinkState.BROKEN]


def test_tls_failure_is_broken() -> None:
    authority = trustme.CA()  # a certificate authority nobody trusts
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.5.1").configure_cert(context)
    with LocalServer("127.0.5.1", tls=context) as server:
        url = server.route("/tls", html_page("Secret"))
        assert url.startswith("https://")
        result = one(url)
    assert result.state is LinkState.BROKEN
    assert result.error_class == "tls"
