"""Shared fixtures: hermetic environment and local servers on distinct loopback addresses."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import pytest
from hypothesis import settings

from tests.postgres_server import PostgresServer, unavailable_reason
from tests.servers import LocalServer

# CI explores the same examples every run (a red build must be reproducible); local runs
# explore new ones each time. A counterexample found either way becomes an @example.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

_PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
)
# What a GitHub runner or a user's shell sets that changes linkfresh's output.
_RUNNER_VARIABLES = ("GITHUB_TOKEN", "GITHUB_STEP_SUMMARY", "GITHUB_WORKSPACE", "NO_COLOR")


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxies, LINKFRESH_* settings or runner variables leak in from the machine running
    the tests."""
    for name in list(os.environ):
        if name in _PROXY_VARIABLES + _RUNNER_VARIABLES or name.startswith("LINKFRESH_"):
            monkeypatch.delenv(name, raising=False)


def _loopback_addresses() -> Iterator[str]:
    """127.0.0.2-254, then 127.1.0.1 onwards: the suite starts more servers than one /24
    holds (127.0.1-6.x are left to tests that pick their own addresses)."""
    yield from (f"127.0.0.{n}" for n in range(2, 255))
    for n in itertools.count():
        yield f"127.1.{n // 254}.{n % 254 + 1}"


_addresses = _loopback_addresses()


@pytest.fixture(scope="session")
def new_server() -> Iterator[Callable[[], LocalServer]]:
    """Start servers on fresh loopback addresses (each one a separate host); all stop at the end."""
    started: list[LocalServer] = []

    def start() -> LocalServer:
        server = LocalServer(next(_addresses)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server(new_server: Callable[[], LocalServer]) -> LocalServer:
    """One server shared by the session; register routes under unique paths."""
    return new_server()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session (skipped, with the reason, where none can
    run; CI installs one, so there a missing server is a failure, never a skip)."""
    reason = unavailable_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL tests cannot run: {reason}")
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a new, empty database: a SQLite file, or a database on the session's
    PostgreSQL server. Storage, pipeline and stage tests take this to run on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'linkfresh.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()
