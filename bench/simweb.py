"""A simulated web on loopback for the link-checker benchmark: one HTTP/1.1 server per host.

Each host is its own loopback address (127.0.0.10, 127.0.0.11, ...) on one shared port, so a
checker sees N distinct hosts (per-host limits, connection pools and robots.txt all apply per
host). Every response waits `--latency` seconds first, like a far-away server. Paths:

    /                  200 small home page
    /page/<n>          200 HTML page with a title, ids section-1..section-5 and <a name="legacy">
    /slow/<n>          the same page after `--slow-latency` seconds instead of `--latency`
    /target/<n>        200 HTML page: where the redirects land
    /moved/<n>         301 -> /target/<n> on the same host
    /away/<n>          301 -> /target/<n> on the next host (cross-host)
    /missing/<n>       404 with an HTML "Not Found" page
    /endless/<n>       200 text/html, chunked, a body that never ends (for a memory cap);
                       bounded anyway by --endless-max-bytes and --endless-max-seconds
    /stall/<n>         the page after `--stall-seconds` (30 s: far past any checker's timeout)
    /drip/<n>          200 HTML page whose headers and first bytes (title, h1) come at once,
                       then the rest one small piece every `--drip-interval` seconds, over
                       `--drip-seconds` (60 s); Content-Length is the whole page's
    /robots.txt        200 "User-agent: * / Allow: /" (nothing is disallowed)
    anything else      404

Every response carries a `LinkChecker: allow` header (--no-linkchecker-header drops it):
LinkChecker only applies its configured `maxrequestspersecond` to servers that send one, and
otherwise waits 0.1-0.6 s between two requests to a host, which no option lifts.

Requests are counted per (host, method, path). A control server on 127.0.0.1 answers
GET /_stats (JSON counters), POST /_reset and POST /_quit; it is never counted.

With --rot, the last three hosts play link rot that still answers 200 (bench/rot_web.py: a
parked host, a site whose unknown paths show its home page, pages that drift); POST
/_phase?n=2 on the control server moves the drifting pages to their changed phase.

Only stdlib asyncio streams: no framework in the way of the numbers. Bounded: the process exits
after --max-seconds, when its parent dies, or on /_quit.

    python bench/simweb.py --hosts 40 --port 18080 --latency 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

try:  # run as a script (python bench/simweb.py) or imported from the bench runners
    from rot_web import RotWeb
except ImportError:  # pragma: no cover
    from bench.rot_web import RotWeb

HOST_BASE = 10  # first host is 127.0.0.10
MAX_HOSTS = 240
MAX_HEADER_BYTES = 16 * 1024
IDLE_TIMEOUT = 30.0  # seconds a keep-alive connection may sit idle


def host_addresses(count: int) -> list[str]:
    if not 1 <= count <= MAX_HOSTS:
        raise ValueError(f"hosts must be 1..{MAX_HOSTS}")
    return [f"127.0.0.{HOST_BASE + i}" for i in range(count)]


def _page(title: str, n: str) -> bytes:
    sections = "".join(
        f'<h2 id="section-{i}">Section {i}</h2><p>Paragraph {i} of page {n}. '
        f"Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>"
        for i in range(1, 6)
    )
    return (
        f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>"
        f'<body><main><h1 id="top">{title}</h1><a name="legacy"></a>{sections}'
        f"</main></body></html>"
    ).encode()


_NOT_FOUND = (
    b"<!doctype html><html><head><title>404 Not Found</title></head>"
    b"<body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>"
)
_ROBOTS = b"User-agent: *\nAllow: /\n"
# Paths whose answers are slow by design: not part of the "bulk" of a run's requests.
_NOT_BULK = frozenset({"slow", "endless", "stall", "drip"})
_ENDLESS_CHUNK = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>\n"


class SimWeb:
    def __init__(self, args: argparse.Namespace) -> None:
        self.hosts = host_addresses(args.hosts)
        self.port: int = args.port
        self.latency: float = args.latency
        self.slow_latency: float = args.slow_latency
        self.endless_max_bytes: int = args.endless_max_bytes
        self.endless_max_seconds: float = args.endless_max_seconds
        self.stall_seconds: float = args.stall_seconds
        self.drip_seconds: float = args.drip_seconds
        self.drip_interval: float = args.drip_interval
        self.hits: Counter[tuple[str, str, str]] = Counter()  # (host, method, path)
        self.connections = 0
        self.bytes_sent = 0
        self.endless_started = 0
        self.endless_bytes = 0
        self.endless_capped = 0
        self.drips_started = self.drips_finished = 0
        self.in_flight = self.max_in_flight = 0
        self.timeline: list[tuple[float, float, str]] = []  # (arrived, answered, kind)
        self.started = self.reset_at = time.monotonic()
        self.stop = asyncio.Event()
        self.rot = RotWeb(self.hosts) if args.rot else None
        # LinkChecker applies its maxrequestspersecond only to servers that send a "LinkChecker"
        # header; without it, it waits 0.1-0.6 s between requests to a host whatever it is told.
        self.server_headers = "Server: simweb\r\n"
        if args.linkchecker_header:
            self.server_headers += "LinkChecker: allow\r\n"

    # -- the simulated hosts -------------------------------------------------------------

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        host = writer.get_extra_info("sockname")[0]
        try:
            while not self.stop.is_set():
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                        ConnectionError):
                    return
                keep_alive = await self._serve_one(host, head, reader, writer)
                if not keep_alive:
                    return
        finally:
            with contextlib.suppress(Exception):
                writer.close()
                await writer.wait_closed()

    async def _serve_one(self, host: str, head: bytes, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> bool:
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")
            return False
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name:
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        if length:
            await reader.readexactly(min(length, 1 << 20))
        connection = headers.get("connection", "").lower()
        keep_alive = (version == "HTTP/1.1" and connection != "close") or connection == "keep-alive"
        path = urlsplit(target).path or "/"
        self.hits[(host, method, path)] += 1
        is_head = method == "HEAD"

        kind, _, n = path.strip("/").partition("/")
        arrived = time.monotonic()
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(host, path, kind, n, is_head, keep_alive, writer)
        finally:
            self.in_flight -= 1
            if arrived >= self.reset_at:  # not an earlier tool's request answered late
                self.timeline.append((arrived, time.monotonic(), kind))

    async def _answer(self, host: str, path: str, kind: str, n: str, is_head: bool,
                      keep_alive: bool, writer: asyncio.StreamWriter) -> bool:
        delay = {"slow": self.slow_latency, "stall": self.stall_seconds}.get(kind, self.latency)
        if delay and path != "/robots.txt":
            await asyncio.sleep(delay)
        if kind == "drip" and n and "/" not in n:
            return await self._drip(writer, _page(f"Drip {n} on {host}", n), is_head,
                                    keep_alive)

        if self.rot is not None and (found := self.rot.answer(host, path)) is not None:
            status, headers, body = found
            content_type = headers.pop("content-type")
            extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            return await self._reply(writer, status, content_type, body, is_head, keep_alive,
                                     extra)
        if kind in ("page", "slow", "target", "stall") and n and "/" not in n:
            title = f"{kind.capitalize()} {n} on {host}"
            return await self._reply(writer, 200, "text/html; charset=utf-8", _page(title, n),
                                     is_head, keep_alive)
        if path == "/":
            return await self._reply(writer, 200, "text/html; charset=utf-8",
                                     _page(f"Home of {host}", "0"), is_head, keep_alive)
        if path == "/robots.txt":
            return await self._reply(writer, 200, "text/plain", _ROBOTS, is_head, keep_alive)
        if kind in ("moved", "away") and n:
            target_host = host
            if kind == "away":
                target_host = self.hosts[(self.hosts.index(host) + 1) % len(self.hosts)]
            location = f"http://{target_host}:{self.port}/target/{n}"
            extra = f"Location: {location}\r\n"
            return await self._reply(writer, 301, "text/html", b"<a href=\"" + location.encode()
                                     + b"\">Moved</a>", is_head, keep_alive, extra)
        if kind == "endless" and n:
            await self._endless(writer, is_head)
            return False
        return await self._reply(writer, 404, "text/html; charset=utf-8", _NOT_FOUND, is_head,
                                 keep_alive)

    async def _reply(self, writer: asyncio.StreamWriter, status: int, content_type: str,
                     body: bytes, is_head: bool, keep_alive: bool, extra: str = "") -> bool:
        reason = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found"}[status]
        head = (
            f"HTTP/1.1 {status} {reason}\r\n{self.server_headers}Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
        ).encode()
        data = head if is_head else head + body
        writer.write(data)
        self.bytes_sent += len(data)
        try:
            await writer.drain()
        except ConnectionError:
            return False
        return keep_alive

    async def _drip(self, writer: asyncio.StreamWriter, body: bytes, is_head: bool,
                    keep_alive: bool) -> bool:
        """Headers and the page's head at once, then the rest a piece at a time."""
        head_end = body.index(b"</h1>") + len(b"</h1>")
        pieces = max(1, int(self.drip_seconds / self.drip_interval))
        rest = body[head_end:]
        step = -(-len(rest) // pieces)
        writer.write(
            f"HTTP/1.1 200 OK\r\n{self.server_headers}Content-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n".encode())
        if is_head:
            await writer.drain()
            return keep_alive
        self.drips_started += 1
        try:
            writer.write(body[:head_end])
            await writer.drain()
            for start in range(0, len(rest), step):
                if self.stop.is_set():
                    return False
                await asyncio.sleep(self.drip_interval)
                writer.write(rest[start:start + step])
                self.bytes_sent += min(step, len(rest) - start)
                await writer.drain()
        except ConnectionError:
            return False
        self.drips_finished += 1
        return keep_alive

    async def _endless(self, writer: asyncio.StreamWriter, is_head: bool) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\n" + self.server_headers.encode()
                     + b"Content-Type: text/html\r\nTransfer-Encoding: chunked\r\n"
                     b"Connection: close\r\n\r\n")
        if is_head:
            await writer.drain()
            return
        self.endless_started += 1
        chunk = b"%x\r\n%s\r\n" % (len(_ENDLESS_CHUNK), _ENDLESS_CHUNK)
        writer.write(b"%x\r\n<!doctype html><html><head><title>Endless</title></head><body>\r\n"
                     % len(b"<!doctype html><html><head><title>Endless</title></head><body>"))
        deadline = time.monotonic() + self.endless_max_seconds
        sent = 0
        try:
            while sent < self.endless_max_bytes and not self.stop.is_set():
                if time.monotonic() > deadline:
                    break
                writer.write(chunk)
                sent += len(chunk)
                self.endless_bytes += len(chunk)
                self.bytes_sent += len(chunk)
                await writer.drain()
            if sent >= self.endless_max_bytes or time.monotonic() > deadline:
                self.endless_capped += 1
            # End without a terminating chunk: a truncated stream, not a complete page.
        except ConnectionError:
            pass

    # -- the control server (not counted) ------------------------------------------------

    async def control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            method, target, _ = head.decode("latin-1").split("\r\n", 1)[0].split(" ", 2)
            if target == "/_stats":
                body = json.dumps(self.stats()).encode()
            elif target == "/_reset" and method == "POST":
                self.reset()
                body = b'{"reset": true}'
            elif target.startswith("/_phase?n=") and method == "POST" and self.rot is not None:
                self.rot.phase = int(target.rsplit("=", 1)[1])
                body = json.dumps({"phase": self.rot.phase}).encode()
            elif target == "/_quit" and method == "POST":
                self.stop.set()
                body = b'{"quit": true}'
            else:
                body = b'{"error": "unknown"}'
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
            await writer.drain()
        except Exception:  # a control client that goes away mid-request is of no interest
            pass
        finally:
            writer.close()

    def reset(self) -> None:
        self.reset_at = time.monotonic()
        self.hits.clear()
        self.connections = self.bytes_sent = 0
        self.endless_started = self.endless_bytes = self.endless_capped = 0
        self.drips_started = self.drips_finished = 0
        self.max_in_flight = 0
        self.timeline.clear()

    def stats(self) -> dict[str, object]:
        hits: dict[str, dict[str, int]] = {}
        for (host, method, path), count in self.hits.items():
            hits.setdefault(f"{host} {path}", {})[method] = count
        return {
            "hosts": self.hosts,
            "port": self.port,
            "latency": self.latency,
            "connections": self.connections,
            "requests": sum(self.hits.values()),
            "bytes_sent": self.bytes_sent,
            "endless_started": self.endless_started,
            "endless_bytes": self.endless_bytes,
            "endless_capped": self.endless_capped,
            "drips_started": self.drips_started,
            "drips_read_to_the_end": self.drips_finished,
            "hits": hits,
            "max_in_flight": self.max_in_flight,
            "timeline": self.timeline_summary(),
        }

    def timeline_summary(self) -> dict[str, object]:
        """When requests arrived, relative to the first one: where a checker's time went."""
        if not self.timeline:
            return {}
        first = min(arrived for arrived, _, _ in self.timeline)
        last = max(answered for _, answered, kind in self.timeline
                   if kind not in ("endless", "stall", "drip"))
        bulk = sorted(arrived - first for arrived, _, kind in self.timeline
                      if kind not in _NOT_BULK)
        slow = sorted(arrived - first for arrived, _, kind in self.timeline if kind == "slow")
        hostile = {kind: sorted(round(arrived - first, 3) for arrived, _, k in self.timeline
                                if k == kind) for kind in ("stall", "drip")}
        return {
            "last_answer_s": round(last - first, 3),
            "last_event_s": round(max(answered for _, answered, _ in self.timeline) - first, 3),
            "stall_arrivals_s": hostile["stall"],
            "drip_arrivals_s": hostile["drip"],
            "bulk_last_arrival_s": round(bulk[-1], 3) if bulk else None,
            "slow_arrivals_s": [round(t, 3) for t in slow],
        }


async def serve(args: argparse.Namespace) -> int:
    web = SimWeb(args)
    servers = []
    for address in web.hosts:
        servers.append(await asyncio.start_server(web.handle, address, args.port, backlog=2048,
                                                  reuse_address=True, limit=MAX_HEADER_BYTES))
    control = await asyncio.start_server(web.control, "127.0.0.1", args.control_port,
                                         reuse_address=True)
    control_port = control.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, web.stop.set)
    parent = os.getppid()
    print(json.dumps({"ready": True, "hosts": web.hosts, "port": args.port,
                      "control": f"http://127.0.0.1:{control_port}"}), flush=True)
    deadline = time.monotonic() + args.max_seconds
    while not web.stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(web.stop.wait(), 1.0)
        if time.monotonic() > deadline:
            print("simweb: --max-seconds reached, stopping", file=sys.stderr)
            web.stop.set()
        elif os.getppid() != parent:
            print("simweb: parent went away, stopping", file=sys.stderr)
            web.stop.set()
    for server in [*servers, control]:
        server.close()
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--hosts", type=int, default=40, help="number of hosts (127.0.0.10 ...)")
    parser.add_argument("--port", type=int, default=18080, help="port on every host")
    parser.add_argument("--control-port", type=int, default=0, help="control port on 127.0.0.1")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds before each answer")
    parser.add_argument("--slow-latency", type=float, default=2.0, help="seconds for /slow/")
    parser.add_argument("--stall-seconds", type=float, default=30.0,
                        help="seconds before /stall/ answers at all")
    parser.add_argument("--drip-seconds", type=float, default=60.0,
                        help="seconds over which /drip/ sends its body after the headers")
    parser.add_argument("--drip-interval", type=float, default=1.0,
                        help="seconds between two pieces of a /drip/ body")
    parser.add_argument("--endless-max-bytes", type=int, default=256 * 1024 * 1024)
    parser.add_argument("--endless-max-seconds", type=float, default=60.0)
    parser.add_argument("--no-linkchecker-header", dest="linkchecker_header",
                        action="store_false",
                        help="do not send the 'LinkChecker' header that lifts LinkChecker's "
                             "fixed 0.1-0.6 s wait between requests to one host")
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="exit after this long")
    parser.add_argument("--rot", action="store_true",
                        help="the last three hosts play link rot (see bench/rot_web.py)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
