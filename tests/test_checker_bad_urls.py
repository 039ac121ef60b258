"""One unusable URL is that link's verdict, never the end of the run (issue 13, item 1).

URLs httpx cannot build a request for, written in the guide or handed over by a redirect,
and a component that raises something unexpected for one host: each link gets its verdict
and every other link is still checked.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest

from linkfresh.collector.check.checker import check_urls
from linkfresh.collector.types import CheckResult, LinkState
from linkfresh.collector.web.client import Resolver, build_client
from linkfresh.config.settings import CheckSettings
from tests.servers import LocalServer, Reply, html_page

FAST = CheckSettings(allow_private=True, connect_timeout=0.5, read_timeout=0.5, link_deadline=5,
                     retries=1, backoff=0.01, dns_retry_pause=0.01)
NewServer = Callable[[], LocalServer]
INVALID = ["http://256.1.1.1/", "http://0177.0.0.1/", "http://a.com:80:80/",
           "http://\N{GRINNING FACE}.example/", "http://[zz/x"]


def check(urls: list[str], resolver: Resolver | None = None) -> list[CheckResult]:
    async def go() -> list[CheckResult]:
        async with build_client(FAST, default_user_agent="t", resolver=resolver) as client:
            return await check_urls(urls, client, FAST)

    return asyncio.run(go())


@pytest.mark.parametrize("bad", INVALID)
def test_an_invalid_url_is_broken_and_the_others_are_checked(
    bad: str, new_server: NewServer
) -> None:
    server = new_server()
    good = server.route("/fine", html_page("Fine"))
    results = {result.url: result for result in check([bad, good, f"{bad}#part"])}
    assert results[good].state is LinkState.OK
    for url in (bad, f"{bad}#part"):
        assert results[url].state is LinkState.BROKEN
        assert (results[url].detail or "").startswith("invalid URL: ")


@pytest.mark.parametrize("location", ["http://[zz/x", "http://256.1.1.1/", "http://a.com:1:2/",
                                      "http://\N{GRINNING FACE}.example/"])
def test_a_redirect_to_an_invalid_url_is_broken(location: str, new_server: NewServer) -> None:
    server = new_server()
    good = server.route("/also-fine", html_page("Fine"))
    moved = server.route("/moved", Reply(301, {"Location": location.encode().decode("latin-1")}))
    results = {result.url: result for result in check([moved, good])}
    assert results[good].state is LinkState.OK
    assert results[moved].state is LinkState.BROKEN
    assert (results[moved].detail or "").startswith("invalid URL: ")


def test_an_unexpected_error_for_one_host_is_that_links_verdict(new_server: NewServer) -> None:
    server = new_server()
    good = server.route("/fine", html_page("Fine"))

    async def resolver(host: str, port: int) -> list[str]:
        if host == "odd.example":
            raise RuntimeError("resolver bug")  # not an httpx error: nothing expects it
        raise socket.gaierror(socket.EAI_NONAME, "no such host")

    odd = "http://odd.example/page"
    results = {result.url: result for result in check([odd, good], resolver)}
    assert results[good].state is LinkState.OK
    assert results[odd].state is LinkState.ERROR
    assert results[odd].detail == "unexpected error: RuntimeError: resolver bug"
