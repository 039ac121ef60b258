"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, a free port on
127.0.0.1, trust authentication, durability off; one server per test session, and a new
empty database (a cheap CREATE DATABASE) for each test that asks for one.

The server binaries come from Debian's `postgresql` package (/usr/lib/postgresql/N/bin),
which `.ci/run` installs. PostgreSQL refuses to run as root, so as root the server runs as
the `postgres` user that package creates.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SERVER_USER = "postgres"
START_TIMEOUT = 30.0
# Durability off: a test database is thrown away, and fsyncs would dominate the suite.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "64MB",
}


def binaries() -> Path | None:
    """The folder holding `initdb` and `postgres`: the newest Debian one, else on PATH."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                    key=lambda path: int(path.parent.parent.name)
                    if path.parent.parent.name.isdigit() else 0)
    if debian:
        return debian[-1].parent
    found = shutil.which("postgres")
    return Path(found).parent if found and shutil.which("initdb") else None


def unavailable_reason() -> str | None:
    """Why no test server can be started here, or None when one can."""
    if binaries() is None:
        return ("no PostgreSQL server binaries (initdb, postgres); install Debian's "
                "`postgresql` package, as .ci/run does")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no {SERVER_USER!r} user to run the server as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """A running server; `new_database()` gives each test its own empty database."""

    data_dir: Path
    port: int
    process: subprocess.Popen[bytes]
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def start(cls) -> PostgresServer:
        folder = binaries()
        assert folder is not None
        as_user = SERVER_USER if os.geteuid() == 0 else None
        data_dir = Path(tempfile.mkdtemp(prefix="linkfresh-pg-"))
        if as_user:
            entry = pwd.getpwnam(as_user)
            os.chown(data_dir, entry.pw_uid, entry.pw_gid)
        subprocess.run(
            [str(folder / "initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust",
             "--no-locale", "-E", "UTF8", "--no-sync"],
            user=as_user, check=True, capture_output=True,
        )
        port = free_port()
        options = [arg for key, value in SERVER_SETTINGS.items()
                   for arg in ("-c", f"{key}={value}")]
        process = subprocess.Popen(
            [str(folder / "postgres"), "-D", str(data_dir), "-p", str(port), *options],
            # In pytest's process group: a Ctrl-C that stops the tests stops the server too.
            user=as_user, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        server = cls(data_dir, port, process)
        server._wait_ready()
        return server

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self):  # type: ignore[no-untyped-def]
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                               dbname="postgres", autocommit=True, connect_timeout=5)

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"the test PostgreSQL server exited ({self.process.returncode})")
            try:
                self._admin().close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the test PostgreSQL server did not start") from None
                time.sleep(0.05)

    def new_database(self) -> str:
        """The URL of a new, empty database on this server."""
        name = f"t{os.getpid()}_{next(self._names)}"
        with self._admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def stop(self) -> None:
        """Fast shutdown (clients are disconnected), then the data folder goes."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)
