"""The HTTP layer: the address guard, user agent and per-host headers, and the capped reader."""

from __future__ import annotations

import asyncio
import socket
import zlib
from collections.abc import Callable

import httpx
import pytest

from linkfresh.collector.web.client import (
    BlockedURL,
    NameNotResolved,
    build_client,
    fetchable,
    host_headers,
    is_public_address,
    read_capped,
    resolve_vetted,
)
from linkfresh.config.settings import CheckSettings
from tests.servers import LocalServer, Reply, endless, gzip_bomb, html_page

UA = "linkfresh/test (+https://example.invalid)"
FAST = CheckSettings(connect_timeout=0.5, read_timeout=0.5, allow_private=True)


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # RFC 6598 shared
        ("224.0.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("240.0.0.1", False),
        # IPv6 that embeds an IPv4 address is judged by that address.
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
        ("64:ff9b:1::808:808", False),  # local-use NAT64 (RFC 8215)
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("2002:c0a8:101::1", False),  # 6to4 of 192.168.1.1
        ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
        ("::127.0.0.1", False),  # IPv4-compatible (deprecated)
        ("::a00:1", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(address) is public


@pytest.mark.parametrize(
    ("url", "ok"),
    [("https://a.example/x", True), ("HTTP://a.example", True), ("ftp://a.example/", False),
     ("mailto:x@y.z", False), ("file:///etc/passwd", False), ("http:///nohost", False)],
)
def test_fetchable(url: str, ok: bool) -> None:
    assert (fetchable(url) is None) is ok


def test_host_headers_match_subdomains_most_specific_last() -> None:
    overrides = {"example.com": {"A": "1", "B": "1"}, "docs.example.com": {"B": "2"}}
    assert host_headers("docs.example.com", overrides) == {"A": "1", "B": "2"}
    assert host_headers("example.com", overrides) == {"A": "1", "B": "1"}
    assert host_headers("notexample.com", overrides) == {}


def test_resolve_vetted_blocks_private_unless_allowed() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.5"]

    with pytest.raises(BlockedURL):
        run(resolve_vetted("mixed.example", 80, allow_private=False, resolver=resolver))
    assert run(resolve_vetted("mixed.example", 80, allow_private=True, resolver=resolver))


def test_unknown_host_is_name_not_resolved() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(NameNotResolved):
        run(resolve_vetted("nope.invalid", 80, allow_private=False, resolver=resolver))


def test_guard_refuses_loopback_by_default(new_server: Callable[[], LocalServer]) -> None:
    server = new_server()
    url = server.route("/guarded", html_page("secret"))

    async def go() -> None:
        async with build_client(CheckSettings(), default_user_agent=UA) as client:
            with pytest.raises(BlockedURL):
                await client.get(url)

    run(go())
    assert server.count("/guarded") == 0


def test_client_sends_user_agent_and_host_headers(new_server: Callable[[], LocalServer]) -> None:
    server = new_server()
    url = server.route("/ua", html_page("ok"))
    settings = FAST.model_copy(update={"headers": {server.host: {"X-Token": "t"}}})

    async def go() -> int:
        async with build_client(settings, default_user_agent=UA) as client:
            return (await client.get(url)).status_code

    assert run(go()) == 200
    sent = server.requests[-1].headers
    assert sent["User-Agent"] == UA
    assert sent["X-Token"] == "t"
    assert sent["Accept-Encoding"] == "gzip, deflate"


def test_configured_user_agent_wins(new_server: Callable[[], LocalServer]) -> None:
    server = new_server()
    url = server.route("/ua2", html_page("ok"))
    settings = FAST.model_copy(update={"user_agent": "custom/1"})

    async def go() -> None:
        async with build_client(settings, default_user_agent=UA) as client:
            await client.get(url)

    run(go())
    assert server.requests[-1].headers["User-Agent"] == "custom/1"


def test_resolver_maps_names_to_loopback(new_server: Callable[[], LocalServer]) -> None:
    server = new_server()
    server.route("/named", html_page("named"))

    async def resolver(host: str, port: int) -> list[str]:
        assert host == "docs.example.test"
        return [server.host]

    async def go() -> int:
        async with build_client(FAST, default_user_agent=UA, resolver=resolver) as client:
            return (await client.get(f"http://docs.example.test:{server.port}/named")).status_code

    assert run(go()) == 200
    assert server.requests[-1].headers["Host"].startswith("docs.example.test")


async def _read(url: str, cap: int) -> tuple[int, bool, str | None]:
    async with (
        build_client(FAST, default_user_agent=UA) as client,
        client.stream("GET", url) as response,
    ):
        body = await read_capped(response, cap)
    return len(body.data), body.truncated, body.decode_error


def test_read_capped_plain_gzip_and_deflate(new_server: Callable[[], LocalServer]) -> None:
    server = new_server()
    text = b"hello " * 1000
    plain = server.route("/plain", Reply(200, {}, text))
    gzipped = zlib.compress(text, wbits=31)
    gz = server.route("/gz", Reply(200, {"Content-Encoding": "gzip"}, gzipped))
    raw = zlib.compressobj(wbits=-15)
    raw_deflate = raw.compress(text) + raw.flush()
    deflate = server.route("/raw-deflate", Reply(200, {"Content-Encoding": "deflate"}, raw_deflate))
    for url in (plain, gz, deflate):
        assert run(_read(url, 1 << 20)) == (len(text), False, None)


def test_gzip_bomb_costs_at_most_the_cap(new_server: Callable[[], LocalServer]) -> None:
    server = new_server()
    url = server.route("/bomb", gzip_bomb(64 * 1024 * 1024))
    assert run(_read(url, 256 * 1024)) == (256 * 1024, True, None)


def test_endless_body_stops_at_the_cap(new_server: Callable[[], LocalServer]) -> None:
    server = new_server()
    url = server.route("/endless", Reply(200, {"Content-Type": "text/html"}, chunks=endless()))
    assert run(_read(url, 300_000)) == (300_000, True, None)


def test_bad_gzip_is_a_value_not_an_exception(new_server: Callable[[], LocalServer]) -> None:
    server = new_server()
    url = server.route("/badgz", Reply(200, {"Content-Encoding": "gzip"}, b"not gzip at all"))
    size, truncated, error = run(_read(url, 1024))
    assert size == 0 and not truncated and error and "bad compressed body" in error


def test_refused_is_connect_error() -> None:
    from tests.servers import closed_port

    port = closed_port("127.0.0.1")

    async def go() -> None:
        async with build_client(FAST, default_user_agent=UA) as client:
            await client.get(f"http://127.0.0.1:{port}/")

    with pytest.raises(httpx.ConnectError) as caught:
        run(go())
    assert not isinstance(caught.value, NameNotResolved)
