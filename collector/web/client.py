"""The one place an httpx client is built: limits, timeouts, user agent, per-host headers
(and the GitHub token, to GitHub's hosts only), the private-address guard on every
connection, and a capped, gzip-bomb-safe body reader.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import typing
import zlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx

from linkfresh.config.settings import CheckSettings

# A resolver turns (host, port) into IP address strings; raise socket.gaierror for "no such host".
Resolver = Callable[[str, int], Awaitable[list[str]]]

FETCHABLE_SCHEMES = frozenset({"http", "https"})
# Only encodings `read_capped` can inflate under its cap are advertised (RFC 9110 §12.5.3).
ACCEPT_ENCODING = "gzip, deflate"
ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
KEEPALIVE_EXPIRY = 30.0
# Origins whose pools (and idle keep-alive connections) are kept; more wait to be closed.
MIN_POOLS = 64
# The hosts a GitHub token is sent to (over https only): its rate limits are per token there.
GITHUB_TOKEN_HOSTS = frozenset({"github.com", "api.github.com", "raw.githubusercontent.com"})


class BlockedURL(httpx.TransportError):
    """Refused by policy: not http(s), or the host resolves to a non-public address."""


class NameNotResolved(httpx.ConnectError):
    """DNS says there is no such host (or resolution failed outright)."""


def fetchable(url: str) -> str | None:
    """Why `url` may not be fetched at all (scheme, missing host), or None if it may."""
    try:
        parts = urlsplit(url)
    except ValueError as error:
        return f"malformed URL: {error}"
    if parts.scheme.lower() not in FETCHABLE_SCHEMES:
        return f"scheme {parts.scheme or '(none)'!r} is not fetched; only http and https are"
    if not parts.hostname:
        return "URL has no host"
    return None


# IPv6 prefixes that carry an IPv4 address inside: NAT64 (RFC 6052, last 32 bits) and
# 6to4 (RFC 3056, bits 16-47). A router translates them, so they reach that IPv4 address.
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
LOCAL_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: local use only
IPV4_COMPATIBLE_PREFIX = ipaddress.IPv6Network("::/96")  # RFC 4291 §2.5.5.1, deprecated


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address reaches through a translator, if it embeds one.

    IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d)
    and 6to4 (2002:aabb:ccdd::) addresses all lead to the IPv4 address inside them.
    """
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64_PREFIX or (ip in IPV4_COMPATIBLE_PREFIX and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str) -> bool:
    """True for globally routable unicast addresses: the only ones fetched by default.

    Private (RFC 1918, ULA), loopback, link-local, shared (RFC 6598), documentation,
    reserved, unspecified and multicast addresses are refused. An IPv6 address that embeds
    an IPv4 address (mapped, compatible, NAT64, 6to4) is judged by the IPv4 address, since
    that is where a translator delivers it; local-use NAT64 (64:ff9b:1::/48) is refused.
    """
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
        address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in LOCAL_NAT64_PREFIX:
            return False
        inner = embedded_ipv4(ip)
        if inner is not None:
            ip = inner
    return ip.is_global and not ip.is_multicast


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve with the OS resolver (non-blocking via the event loop's executor)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]), None)
    return list(seen)


async def resolve_vetted(
    host: str, port: int, *, allow_private: bool, resolver: Resolver | None = None
) -> list[str]:
    """The addresses of `host` it is allowed to connect to.

    Raises NameNotResolved when there are none, BlockedURL when any address is not public
    and `allow_private` is off (one bad address is enough: DNS could rotate onto it).
    """
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        addresses = [host]
    except ValueError:
        try:
            addresses = await (resolver or system_resolver)(host, port)
        except (socket.gaierror, UnicodeError, OSError) as error:
            raise NameNotResolved(f"cannot resolve {host}: {error}") from None
    if not addresses:
        raise NameNotResolved(f"cannot resolve {host}: no addresses")
    if not allow_private:
        for address in addresses:
            if not is_public_address(address):
                raise BlockedURL(f"{host} resolves to non-public address {address}")
    return addresses


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and vets the host itself, then connects to the vetted IP.

    Connecting to the address that was checked (not re-resolving) closes the DNS-rebinding
    gap; TLS still verifies and sends SNI for the original host name (httpcore passes it).
    """

    def __init__(self, allow_private: bool, resolver: Resolver | None) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allow_private = allow_private
        self._resolver = resolver

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await resolve_vetted(
            host, port, allow_private=self._allow_private, resolver=self._resolver
        )
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as error:
                last = error
        assert last is not None
        raise last

    async def connect_unix_socket(self, *_: object, **__: object) -> httpcore.AsyncNetworkStream:
        raise BlockedURL("unix sockets are never used")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _OriginPools:
    """One small httpcore pool per origin (scheme, host, port), in least-recently-used order.

    httpcore scans every pooled connection on every request and release, so one big pool
    costs O(connections) per request, and a small global one evicts idle keep-alive
    connections of other hosts. Small pools keep both the scan and reuse per host.
    At most `max_pools` pools are kept; the least recently used pool with nothing in flight
    is closed when a new origin needs room, which bounds idle sockets.
    """

    def __init__(
        self, *, per_origin: int, max_pools: int, keepalive_expiry: float,
        backend: httpcore.AsyncNetworkBackend, ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._per_origin = per_origin
        self._max_pools = max_pools
        self._keepalive_expiry = keepalive_expiry
        self._backend = backend
        self._ssl_context: ssl.SSLContext | None = ssl_context
        self._pools: OrderedDict[tuple[bytes, bytes, int | None], _Pool] = OrderedDict()
        self._closing: set[asyncio.Future[None]] = set()

    def _ssl(self) -> ssl.SSLContext:
        # One context for every https origin: each one loads the CA bundle (~1 MB of RSS).
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context(trust_env=False)
        return self._ssl_context

    def _pool(self, url: httpcore.URL) -> _Pool:
        key = (url.scheme, url.host, url.port)
        pool = self._pools.get(key)
        if pool is not None:
            self._pools.move_to_end(key)
            return pool
        if len(self._pools) >= self._max_pools:
            for old_key, old in self._pools.items():
                if not old.active:
                    del self._pools[old_key]
                    closing = asyncio.ensure_future(old.pool.aclose())
                    self._closing.add(closing)
                    closing.add_done_callback(self._closing.discard)
                    break
        pool = self._pools[key] = _Pool(httpcore.AsyncConnectionPool(
            ssl_context=self._ssl() if url.scheme == b"https" else None,
            max_connections=self._per_origin,
            max_keepalive_connections=self._per_origin,
            keepalive_expiry=self._keepalive_expiry,
            network_backend=self._backend,
        ))
        return pool

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        pool = self._pool(request.url)
        pool.active += 1
        try:
            response = await pool.pool.handle_async_request(request)
        except BaseException:
            pool.active -= 1
            raise
        response.stream = _Released(response.stream, pool)  # type: ignore[arg-type]
        return response

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.pool.aclose()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def __aenter__(self) -> _OriginPools:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()


class _Pool:
    """A pool and how many of its responses are still open (closable only at zero)."""

    __slots__ = ("active", "pool")

    def __init__(self, pool: httpcore.AsyncConnectionPool) -> None:
        self.pool = pool
        self.active = 0


class _Released:
    """A response stream that counts its pool's open responses down once, when closed."""

    __slots__ = ("_pool", "_stream")

    def __init__(self, stream: typing.AsyncIterable[bytes], pool: _Pool | None) -> None:
        self._stream: typing.Any = stream
        self._pool = pool

    def __aiter__(self) -> typing.AsyncIterator[bytes]:
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if self._pool is not None:
                self._pool.active -= 1
                self._pool = None


class _GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over per-origin pools on the guarded backend."""

    def __init__(self, limits: httpx.Limits, backend: _GuardedBackend, max_pools: int,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        # Not calling super().__init__: it would only build a pool (and an SSL context) that
        # is replaced here; httpx has no public hook for a network backend, `_pool` is its
        # only state.
        self._pool = _OriginPools(  # type: ignore[assignment]
            per_origin=limits.max_connections or 1,
            max_pools=max_pools,
            keepalive_expiry=limits.keepalive_expiry or KEEPALIVE_EXPIRY,
            backend=backend,
            ssl_context=ssl_context,
        )


def host_headers(host: str, overrides: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Extra headers for `host`: a key matches the host itself and its subdomains."""
    host = host.lower().rstrip(".")
    merged: dict[str, str] = {}
    for key in sorted(overrides, key=len):  # parents first, so the most specific key wins
        domain = key.lower().rstrip(".")
        if host == domain or host.endswith("." + domain):
            merged.update(overrides[key])
    return merged


def token_headers(scheme: str, host: str, token: str | None) -> dict[str, str]:
    """`Authorization` for a GitHub token: only to GITHUB_TOKEN_HOSTS, only over https.

    Every redirect hop is a request of its own, so a hop that leaves GitHub goes without it.
    """
    host = host.lower().rstrip(".")
    if not token or scheme.lower() != "https" or host not in GITHUB_TOKEN_HOSTS:
        return {}
    return {"Authorization": f"Bearer {token}"}


def request_headers(url: httpx.URL, overrides: Mapping[str, Mapping[str, str]],
                    github_token: str | None) -> dict[str, str]:
    """The extra headers of one request: the GitHub token where it belongs, then the
    configured per-host headers (an `Authorization` configured for the host wins)."""
    return {**token_headers(url.scheme, url.host, github_token),
            **host_headers(url.host, overrides)}


def build_client(
    settings: CheckSettings,
    *,
    default_user_agent: str,
    resolver: Resolver | None = None,
    follow_redirects: bool = False,
    github_token: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """Build the pooled async client every outside-world fetch uses.

    `settings.user_agent` wins over `default_user_agent` (the application passes
    `linkfresh/<version> (+<project url>)`; `collector` cannot import it). Every connection,
    redirect hops included, is resolved and vetted unless `settings.allow_private`.
    `resolver` replaces DNS (tests map names to loopback or make every lookup fail), and
    `ssl_context` the trust store (tests trust their own CA). `github_token` is sent to
    GitHub's hosts only (`token_headers`).
    Environment proxies are ignored: a proxy would resolve names where the guard cannot see.
    """
    # Per origin: the checker holds at most `per_host` requests to a host at once; other
    # callers (feeds) may queue a moment in the pool instead.
    limits = httpx.Limits(
        max_connections=settings.per_host,
        max_keepalive_connections=settings.per_host,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )
    timeout = httpx.Timeout(
        connect=settings.connect_timeout,
        read=settings.read_timeout,
        write=settings.read_timeout,
        pool=settings.link_deadline,
    )
    overrides = settings.headers

    async def add_host_headers(request: httpx.Request) -> None:
        request.headers.update(request_headers(request.url, overrides, github_token))

    return httpx.AsyncClient(
        transport=_GuardedTransport(limits, _GuardedBackend(settings.allow_private, resolver),
                                     max_pools=max(MIN_POOLS, settings.concurrency),
                                     ssl_context=ssl_context),
        timeout=timeout,
        headers={
            "User-Agent": settings.user_agent or default_user_agent,
            "Accept": ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
            "Accept-Language": "en;q=1.0, *;q=0.5",
        },
        follow_redirects=follow_redirects,
        max_redirects=settings.max_redirects,
        event_hooks={"request": [add_host_headers]} if overrides or github_token else None,
        trust_env=False,
    )


@dataclass(frozen=True, slots=True)
class CappedBody:
    """At most the cap of decoded bytes; `truncated` when the body went on past it."""

    data: bytes
    truncated: bool
    decode_error: str | None = None
    # Why the read stopped before the body's end although the cap was not reached.
    cut_short: str | None = None


class _Inflater:
    """gzip or deflate with an output cap; raw deflate (no zlib header) is tried as a fallback."""

    def __init__(self, coding: str) -> None:
        self._raw_fallback = coding == "deflate"
        wbits = 16 + zlib.MAX_WBITS if coding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._zlib = zlib.decompressobj(wbits)
        self._started = False

    @property
    def done(self) -> bool:
        return self._zlib.eof

    def inflate(self, data: bytes, room: int) -> bytes:
        """Up to `room` bytes inflated from `data`; the rest of the input waits in the tail."""
        out = bytearray()
        while data and len(out) < room and not self._zlib.eof:
            try:
                out += self._zlib.decompress(data, room - len(out))
            except zlib.error:
                # RFC 9110 §8.4.1.2 says zlib format, yet some servers send raw deflate.
                if self._started or not self._raw_fallback:
                    raise
                self._zlib, self._raw_fallback = zlib.decompressobj(-zlib.MAX_WBITS), False
                continue
            self._started = True
            data = self._zlib.unconsumed_tail
        return bytes(out)


def _inflater(content_encoding: str) -> _Inflater | str | None:
    """None for identity, an inflater for one gzip/deflate coding, else why it can't decode."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return _Inflater(codings[0])
    return f"unsupported content-encoding {content_encoding!r}"


async def read_capped(
    response: httpx.Response, max_bytes: int, *, deadline: float | None = None
) -> CappedBody:
    """Read a streamed response's body, decoding it ourselves with a hard output cap.

    httpx's own decoder inflates each network chunk in one call, so 16 KiB of a gzip bomb can
    become 16 MiB at once; here `decompress(..., max_length)` never yields more than the cap.
    An undecodable body returns the raw bytes read so far (capped) with `decode_error`.
    The caller owns the response (use `client.stream(...)`); unread bytes are discarded.

    With a `deadline` (seconds), a body still arriving after it, or one that stops arriving
    (a read timeout), ends the read: what arrived is returned, `truncated`, with `cut_short`
    saying why. Without one, a read timeout is raised as usual.
    """
    out = bytearray()
    if deadline is None:
        return await _read_into(out, response, max_bytes)
    try:
        async with asyncio.timeout(deadline):
            return await _read_into(out, response, max_bytes)
    except TimeoutError:
        cut = f"body still arriving after the {deadline:g} s body deadline"
    except httpx.TimeoutException:
        cut = "body stopped arriving (read timeout)"
    error = _inflater(response.headers.get("content-encoding", ""))
    return CappedBody(bytes(out), True, error if isinstance(error, str) else None, cut)


async def _read_into(out: bytearray, response: httpx.Response, max_bytes: int) -> CappedBody:
    """`read_capped`'s loop; `out` holds what arrived if the caller stops it early."""
    inflater = _inflater(response.headers.get("content-encoding", ""))
    error = inflater if isinstance(inflater, str) else None
    # Pieces as they arrive: a chunk size would hold bytes back until it filled, and a body
    # cut short by the deadline would lose what arrived.
    async for raw in response.aiter_raw():
        room = max_bytes - len(out)
        if isinstance(inflater, _Inflater):
            try:
                out += inflater.inflate(raw, room)
            except zlib.error as failure:
                return CappedBody(bytes(out), False, f"bad compressed body: {failure}")
            if inflater.done:
                break
        else:
            out += raw[:room]
        if len(out) >= max_bytes:
            return CappedBody(bytes(out), True, error)
    return CappedBody(bytes(out), False, error)
