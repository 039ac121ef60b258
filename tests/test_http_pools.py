"""Per-origin connection pools: keep-alive reuse, the guard on every new connection, and
the bound on how many origins keep pools (and idle sockets)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable

import pytest

from linkfresh.collector.web.client import build_client
from linkfresh.config.settings import CheckSettings
from tests.servers import LocalServer, html_page

UA = "linkfresh/test (+https://example.invalid)"


def test_sequential_requests_to_one_origin_reuse_one_connection(
    new_server: Callable[[], LocalServer],
) -> None:
    server = new_server()
    server.route("/k", html_page("kept"))
    connects: Counter[str] = Counter()

    async def resolver(host: str, port: int) -> list[str]:
        connects[host] += 1  # called once per new connection: the guard resolves each one
        return [server.host]

    url = f"http://keep.example.test:{server.port}/k"
    settings = CheckSettings(allow_private=True)

    async def go() -> list[int]:
        async with build_client(settings, default_user_agent=UA, resolver=resolver) as client:
            return [(await client.get(url)).status_code for _ in range(5)]

    assert asyncio.run(go()) == [200] * 5
    assert connects["keep.example.test"] == 1
    assert server.count("/k") == 5


def test_origins_beyond_the_pool_bound_close_idle_pools(
    new_server: Callable[[], LocalServer],
) -> None:
    server = new_server()
    server.route("/p", html_page("page"))
    names = [f"h{i}.example.test" for i in range(70)]  # more than the 64 pools kept

    async def resolver(host: str, port: int) -> list[str]:
        return [server.host]

    async def go() -> tuple[list[int], int]:
        settings = CheckSettings(allow_private=True, concurrency=8)
        async with build_client(settings, default_user_agent=UA, resolver=resolver) as client:
            codes = [(await client.get(f"http://{n}:{server.port}/p")).status_code
                     for n in names]
            return codes, len(client._transport._pool._pools)  # type: ignore[attr-defined]

    codes, kept = asyncio.run(go())
    assert codes == [200] * 70
    assert kept == 64
    assert server.count("/p") == 70


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_pools_are_per_scheme_host_and_port(scheme: str) -> None:
    import httpcore

    from linkfresh.collector.web.client import _GuardedBackend, _OriginPools

    pools = _OriginPools(per_origin=2, max_pools=64, keepalive_expiry=5.0,
                         backend=_GuardedBackend(True, None))
    first = pools._pool(httpcore.URL(f"{scheme}://a.test:1/x"))
    assert pools._pool(httpcore.URL(f"{scheme}://a.test:1/y")) is first
    assert pools._pool(httpcore.URL(f"{scheme}://a.test:2/x")) is not first
    assert pools._pool(httpcore.URL(f"{scheme}://b.test:1/x")) is not first
