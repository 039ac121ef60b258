"""One attempt at a URL: redirects followed hop by hop (each hop gated per host and vetted),
the answer's evidence kept, and every transport failure turned into a `Failure` value.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import httpx

from linkfresh.collector.check.host_limits import HostLimits
from linkfresh.collector.check.pages import Page, inspect_html, is_html
from linkfresh.collector.guide.unwrap import URL_CACHE_SIZE, split_fragment
from linkfresh.collector.types import Hop
from linkfresh.collector.web.client import BlockedURL, NameNotResolved, fetchable, read_capped
from linkfresh.collector.web.retry import Failure

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})  # RFC 9110 §15.4.2, §15.4.9
# Enough of an error page to read a bot wall's <title>; titles sit at the top.
ERROR_PAGE_BYTES = 64 * 1024
_KEPT_HEADERS = ("content-type", "retry-after", "cf-mitigated", "etag", "last-modified", "server")


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt got: the final status (or a failure) and the evidence on the way."""

    url: str
    method: str
    final_url: str
    status: int | None = None
    chain: tuple[Hop, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    page: Page | None = None
    truncated: bool = False
    failure: Failure | None = None
    error: str | None = None
    requests: int = 0
    # Set when the server asked to wait longer than the cap: the link is then unverified.
    rate_limited: str | None = None
    # Set when the page was judged on the part of its body that arrived in time.
    cut_short: str | None = None


@lru_cache(maxsize=URL_CACHE_SIZE)
def host_key(url: str) -> str:
    """The unit of politeness: host and port (two ports of one address are two servers)."""
    return urlsplit(url).netloc.lower().rsplit("@", 1)[-1]


def classify_error(error: Exception) -> Failure:
    """Map a transport exception to a `Failure`; the order matters (subclasses first)."""
    if isinstance(error, BlockedURL | httpx.UnsupportedProtocol):
        return Failure.BLOCKED
    if isinstance(error, NameNotResolved):
        return Failure.NO_HOST
    if isinstance(error, httpx.ConnectTimeout):
        return Failure.CONNECT_TIMEOUT
    if isinstance(error, httpx.TimeoutException):
        return Failure.TIMEOUT
    if isinstance(error, httpx.ConnectError):
        cause = error.__cause__ or error.__context__
        if isinstance(cause, ssl.SSLError) or "SSL" in str(error) or "certificate" in str(error):
            return Failure.TLS
        return Failure.REFUSED
    if isinstance(error, httpx.ReadError | httpx.WriteError | httpx.CloseError):
        return Failure.RESET
    if isinstance(error, httpx.RemoteProtocolError) and "disconnected" in str(error):
        return Failure.RESET
    if isinstance(error, httpx.InvalidURL):
        return Failure.BAD_URL
    if isinstance(error, httpx.RemoteProtocolError) and "Invalid URL in location" in str(error):
        return Failure.BAD_URL  # a redirect's Location httpx cannot parse
    return Failure.PROTOCOL


# Transport errors raised once the request is on its way (writing it, or waiting for the
# answer): the request counts though no headers came. Connecting and pool waits send nothing.
SENT_ERRORS = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.WriteError,
               httpx.RemoteProtocolError)


# What a URL httpx cannot build a request for raises: its own InvalidURL, ValueError from
# the standard library's URL parsing, and UnicodeError (idna) for hosts IDNA rejects.
URL_ERRORS = (httpx.InvalidURL, ValueError, UnicodeError)


# A URL written plainly: http(s), an ASCII host name (not punycode) or dotted IPv4 address,
# a port that fits, printable ASCII after. Both parsers below always take such a URL, and
# telling so by a pattern costs 1 µs where they cost 14 µs: 0.12 s before the first request
# of a 10,000-link check. tests/test_invalid_url.py holds the two ways equal.
_PLAIN_URL = re.compile(
    r"https?://(?P<host>[a-z0-9-]+(?:\.[a-z0-9-]+)*\.?)(?::(?P<port>[0-9]{1,5}))?"
    r"(?:[/?#][!-~]*)?", re.IGNORECASE | re.ASCII)
_DOTTED_QUAD = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", re.ASCII)
_PLAIN_URL_MAX = 4096


def invalid_url(url: str) -> str | None:
    """Why no request can be made for `url` ("invalid URL: ..."), or None if one can."""
    if len(url) <= _PLAIN_URL_MAX and _is_plainly_valid(url):
        return None
    return parse_problem(url)


def _is_plainly_valid(url: str) -> bool:
    plain = _PLAIN_URL.fullmatch(url)
    if plain is None:
        return False
    host, port = plain["host"], plain["port"]
    if port is not None and int(port) > 65535:
        return False
    if _DOTTED_QUAD.fullmatch(host):
        try:
            ipaddress.IPv4Address(host)  # what httpx asks of such a host: 256.1.1.1 is not one
        except ValueError:
            return False
        return True
    return "xn--" not in host.lower()  # punycode is decoded (and may be refused) by IDNA


def parse_problem(url: str) -> str | None:
    """`invalid_url` the long way: the standard library's and httpx's parsers both asked."""
    try:
        _ = urlsplit(url).port  # the standard library's view: brackets and ports
        _ = httpx.URL(url).host  # httpx's: the host is decoded lazily, where IDNA says no
    except URL_ERRORS as error:
        return f"invalid URL: {error}"[:300]
    return None


async def fetch(
    client: httpx.AsyncClient,
    limits: HostLimits,
    url: str,
    *,
    method: str = "GET",
    body_bytes: int = 0,
    max_redirects: int = 10,
    first_headers: Mapping[str, str] | None = None,
    anchors: bool = True,
    body_deadline: float | None = None,
    timeout: httpx.Timeout | None = None,
) -> Answer:
    """Request `url`, following up to `max_redirects` redirects by hand.

    `body_bytes` > 0 reads up to that much of an HTML answer to a GET and inspects it
    (its ids and names too unless `anchors` is False: only a fragment needs them), for at
    most `body_deadline` seconds after the headers: then the page is judged on what arrived.
    `first_headers` (conditional validators) go on the first request only. `timeout`
    replaces the client's timeouts for these requests.
    """
    options: dict[str, object] = {} if timeout is None else {"timeout": timeout}
    chain: list[Hop] = []
    seen = {split_fragment(url)[0]}
    current, requests = url, 0
    while True:
        reason = fetchable(current)
        if reason:
            return Answer(url, method, current, None, tuple(chain), failure=Failure.BLOCKED,
                          error=reason, requests=requests)
        answered = False
        try:
            async with (
                limits.slot(host_key(current)),
                client.stream(method, current, headers=None if chain else first_headers,
                              **options) as reply,  # type: ignore[arg-type]
            ):
                answered = True
                requests += 1
                location = reply.headers.get("location")
                if reply.status_code in REDIRECT_STATUSES and location:
                    target = urljoin(current, location.strip())
                    chain.append(Hop(current, reply.status_code, target))
                    next_url = target
                else:
                    return await _final(url, method, reply, tuple(chain), body_bytes, requests,
                                        anchors, body_deadline)
        except httpx.HTTPError as error:
            if not answered and isinstance(error, SENT_ERRORS):
                requests += 1  # it went out; no headers came back (a stall, a reset)
            failure = classify_error(error)
            what = "invalid URL" if failure is Failure.BAD_URL else type(error).__name__
            return Answer(url, method, current, None, tuple(chain), failure=failure,
                          error=f"{what}: {error}"[:300], requests=requests)
        except URL_ERRORS as error:  # this hop's URL (say, a redirect's Location) is unusable
            return Answer(url, method, current, None, tuple(chain), failure=Failure.BAD_URL,
                          error=f"invalid URL: {error}"[:300], requests=requests)
        if split_fragment(next_url)[0] in seen:
            return Answer(url, method, next_url, chain[-1].status, tuple(chain),
                          failure=Failure.REDIRECT_LOOP, error="redirect loop", requests=requests)
        if len(chain) > max_redirects:
            return Answer(url, method, next_url, chain[-1].status, tuple(chain),
                          failure=Failure.TOO_MANY_REDIRECTS,
                          error=f"more than {max_redirects} redirects", requests=requests)
        seen.add(split_fragment(next_url)[0])
        current = next_url


async def _final(
    url: str, method: str, reply: httpx.Response, chain: tuple[Hop, ...], body_bytes: int,
    requests: int, anchors: bool, body_deadline: float | None,
) -> Answer:
    headers = {name: reply.headers[name] for name in _KEPT_HEADERS if name in reply.headers}
    page, truncated, cut_short = None, False, None
    if method == "GET" and body_bytes and is_html(headers.get("content-type")):
        limit = body_bytes if reply.status_code < 300 else min(body_bytes, ERROR_PAGE_BYTES)
        body = await read_capped(reply, limit, deadline=body_deadline)
        # Features (visible text, resources) only for pages, not for error answers.
        page = inspect_html(body.data, reply.charset_encoding, anchors=anchors,
                            features=reply.status_code < 300)
        truncated = body.truncated
        if body.cut_short:
            cut_short = f"{body.cut_short}: judged on its first {len(body.data)} bytes"
    return Answer(url, method, str(reply.url), reply.status_code, chain, headers, page, truncated,
                  requests=requests, cut_short=cut_short)
