"""GITHUB_TOKEN goes to github.com, api.github.com and raw.githubusercontent.com over https,
and nowhere else: real TLS servers on loopback, names mapped by the client's resolver."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator

import pytest
import trustme

from linkfresh.collector.web.client import build_client, token_headers
from linkfresh.config.settings import CheckSettings
from linkfresh.github import github_token
from tests.servers import LocalServer, Reply, html_page

NAMES = ("github.com", "api.github.com", "raw.githubusercontent.com", "example.org",
         "github.com.evil.example", "gist.github.com")
SETTINGS = CheckSettings(allow_private=True, connect_timeout=2, read_timeout=2)
TOKEN = "ghs_test_token"


@pytest.mark.parametrize(("scheme", "host", "sent"), [
    ("https", "github.com", True), ("https", "API.GitHub.com.", True),
    ("https", "raw.githubusercontent.com", True), ("http", "github.com", False),
    ("https", "gist.github.com", False), ("https", "github.com.evil.example", False),
    ("https", "example.org", False),
])
def test_token_headers_choose_the_host(scheme: str, host: str, sent: bool) -> None:
    headers = token_headers(scheme, host, TOKEN)
    assert headers == ({"Authorization": f"Bearer {TOKEN}"} if sent else {})
    assert token_headers(scheme, host, None) == {}


def test_token_is_read_from_the_environment() -> None:
    assert github_token({"GITHUB_TOKEN": " abc \n"}) == "abc"
    assert github_token({"GITHUB_TOKEN": ""}) is None and github_token({}) is None


@pytest.fixture(scope="module")
def tls() -> Iterator[tuple[LocalServer, LocalServer, ssl.SSLContext]]:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*NAMES).configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    with LocalServer("127.0.6.1", tls=server_context) as secure, \
            LocalServer("127.0.6.2") as plain:
        yield secure, plain, client_context


def fetch(urls: list[str], server: LocalServer, context: ssl.SSLContext,
          token: str | None) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return [server.host]

    async def go() -> None:
        async with build_client(SETTINGS, default_user_agent="t", resolver=resolver,
                                github_token=token, ssl_context=context) as client:
            for url in urls:
                await client.get(url)

    asyncio.run(go())


def authorization(server: LocalServer, path: str) -> str | None:
    (request,) = [r for r in server.requests if r.path == path]
    return request.headers.get("Authorization")


def test_sent_to_githubs_hosts_only(tls: tuple[LocalServer, LocalServer, ssl.SSLContext]) -> None:
    secure, _, context = tls
    for name in NAMES:
        secure.route(f"/tok/{name}", html_page(name))
    fetch([f"https://{name}:{secure.port}/tok/{name}" for name in NAMES], secure, context, TOKEN)
    got = {name: authorization(secure, f"/tok/{name}") for name in NAMES}
    assert got == {"github.com": f"Bearer {TOKEN}", "api.github.com": f"Bearer {TOKEN}",
                   "raw.githubusercontent.com": f"Bearer {TOKEN}", "example.org": None,
                   "github.com.evil.example": None, "gist.github.com": None}


def test_not_sent_over_plain_http_nor_to_where_github_redirects(
    tls: tuple[LocalServer, LocalServer, ssl.SSLContext],
) -> None:
    secure, plain, context = tls
    plain.route("/tok/plain", html_page("plain"))
    fetch([f"http://github.com:{plain.port}/tok/plain"], plain, context, TOKEN)
    assert authorization(plain, "/tok/plain") is None
    secure.route("/tok/away", Reply(302, {"Location": f"https://example.org:{secure.port}/tok/x"}))
    secure.route("/tok/x", html_page("elsewhere"))

    async def resolver(host: str, port: int) -> list[str]:
        return [secure.host]

    async def go() -> None:
        async with build_client(SETTINGS, default_user_agent="t", resolver=resolver,
                                github_token=TOKEN, ssl_context=context,
                                follow_redirects=True) as client:
            await client.get(f"https://github.com:{secure.port}/tok/away")

    asyncio.run(go())
    assert authorization(secure, "/tok/away") == f"Bearer {TOKEN}"
    assert authorization(secure, "/tok/x") is None


def test_a_configured_authorization_wins(
    tls: tuple[LocalServer, LocalServer, ssl.SSLContext],
) -> None:
    secure, _, context = tls
    secure.route("/tok/configured", html_page("configured"))
    settings = SETTINGS.model_copy(update={"headers": {"github.com": {"Authorization": "x"}}})

    async def resolver(host: str, port: int) -> list[str]:
        return [secure.host]

    async def go() -> None:
        async with build_client(settings, default_user_agent="t", resolver=resolver,
                                github_token=TOKEN, ssl_context=context) as client:
            await client.get(f"https://github.com:{secure.port}/tok/configured")

    asyncio.run(go())
    assert authorization(secure, "/tok/configured") == "x"
