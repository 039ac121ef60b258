"""Real HTTP servers on loopback for the tests: a route table, hit counters, and misbehaviour.

Each `LocalServer` listens on its own 127.0.0.x address (a separate host to the code under
test) on an ephemeral port. Routes map a path to a `Reply` or to a function of the request.
"""

from __future__ import annotations

import gzip
import socket
import ssl
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Reply:
    """What a route answers. `chunks` streams a body (may be endless); `reset` sends a TCP RST."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | str = b""
    delay: float = 0.0
    chunks: Callable[[], Iterable[bytes]] | None = None
    reset: bool = False
    head_body: bool = False  # send the body on HEAD too (misbehaving servers do)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


Handler = Reply | Callable[[Request], Reply]


class HeldOpen:
    """A handler that holds each request `seconds` before `reply`, and keeps the most it
    held at once (`peak`): what a client's concurrency looks like from the server."""

    def __init__(self, reply: Reply, seconds: float) -> None:
        self.reply, self.seconds = reply, seconds
        self.peak = self._live = 0
        self._lock = threading.Lock()

    def __call__(self, _: Request) -> Reply:
        with self._lock:
            self._live += 1
            self.peak = max(self.peak, self._live)
        time.sleep(self.seconds)
        with self._lock:
            self._live -= 1
        return self.reply


def in_turn(*replies: Reply) -> Callable[[Request], Reply]:
    """Answer with each reply in turn, then keep answering with the last one."""
    served = iter(replies)
    last = [replies[-1]]

    def handler(_: Request) -> Reply:
        last[0] = next(served, last[0])
        return last[0]

    return handler


def html_page(title: str, body: str = "") -> Reply:
    text = f"<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>"
    return Reply(200, {"Content-Type": "text/html; charset=utf-8"}, text)


def gzip_bomb(size: int = 200 * 1024 * 1024) -> Reply:
    """A small gzip body that inflates to `size` bytes of zeros."""
    compressed = gzip.compress(b"\0" * size, compresslevel=9)
    return Reply(200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, compressed)


def endless(chunk: bytes = b"<p>" + b"x" * 65536) -> Callable[[], Iterable[bytes]]:
    def generate() -> Iterable[bytes]:
        while True:
            yield chunk

    return generate


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up mid-reply are what many tests do on purpose: no tracebacks."""

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class LocalServer:
    """A threaded HTTP/1.1 server with a route table; use as a context manager or start/stop."""

    def __init__(self, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.scheme = "https" if tls else "http"
        self.routes: dict[str, Handler] = {}
        self.hits: Counter[tuple[str, str]] = Counter()
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = _QuietServer((host, 0), self._handler_class())
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        # A short poll interval: shutdown() waits up to one interval, and a session stops dozens.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    @property
    def origin(self) -> str:
        return f"{self.host}:{self.port}"

    def route(self, path: str, handler: Handler) -> str:
        """Register `handler` for `path` (exact, query ignored) and return its URL; the path
        `*` answers every path that has no route of its own (a catch-all host)."""
        self.routes[path] = handler
        return self.url(path)

    def count(self, path: str, method: str | None = None) -> int:
        with self._lock:
            return sum(n for (m, p), n in self.hits.items() if p == path and method in (None, m))

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(self.command, parts.path, parts.query, dict(self.headers), body)
                with server._lock:
                    server.hits[(self.command, parts.path)] += 1
                    server.requests.append(request)
                handler = server.routes.get(parts.path, server.routes.get("*"))
                if handler is None:
                    reply = Reply(404, {"Content-Type": "text/html"}, "<title>Not Found</title>")
                else:
                    reply = handler(request) if callable(handler) else handler
                self._reply(reply)

            def _reply(self, reply: Reply) -> None:
                if reply.delay and server.stopping.wait(reply.delay):
                    return
                if reply.reset:
                    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                    return
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                self.send_response(reply.status)
                headers = {"Content-Type": "text/plain", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                send_body = self.command != "HEAD" or reply.head_body
                if reply.chunks is not None:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    if not send_body:
                        return
                    try:
                        for chunk in reply.chunks():
                            if server.stopping.is_set():
                                break
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.write(b"0\r\n\r\n")
                    except (BrokenPipeError, ConnectionResetError):
                        self.close_connection = True
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if send_body:
                    try:
                        self.wfile.write(body)
                    except (BrokenPipeError, ConnectionResetError):
                        self.close_connection = True

            do_GET = do_HEAD = do_POST = _serve

        return _Handler


def closed_port(host: str = "127.0.0.1") -> int:
    """A port on `host` with nothing listening (connections are refused)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
