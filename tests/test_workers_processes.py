"""Three `linkfresh worker` processes on one PostgreSQL database and a local web of 2,000 links
on 20 hosts with latency: every due link is recorded exactly once per round, none is lost when
a worker is killed with SIGKILL mid-batch, and no host ever has more than `per_host` requests
in flight from all the workers together.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from linkfresh.storage.migrations import open_database
from linkfresh.storage.models import CheckRound, Resource, ResultRow, RunRow
from tests.configs import write_config
from tests.postgres_server import PostgresServer

REPO = Path(__file__).resolve().parent.parent
HOSTS = [f"127.0.3.{n}" for n in range(1, 21)]
LINKS_PER_HOST = 100
LATENCY = 0.01
PER_HOST = 3
WORKERS = 3
pytestmark = pytest.mark.timeout(240)


class Host(ThreadingHTTPServer):
    """One host of the local web: every page after `LATENCY`, requests counted per path, and
    the most requests it ever had in flight at once."""

    daemon_threads = True

    def __init__(self, address: str) -> None:
        super().__init__((address, 0), _Page)
        self.lock = threading.Lock()
        self.in_flight = self.max_in_flight = 0
        self.hits: Counter[str] = Counter()


class _Page(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Host

    def log_message(self, *_: object) -> None:
        pass

    def do_GET(self) -> None:
        host = self.server
        with host.lock:
            host.in_flight += 1
            host.max_in_flight = max(host.max_in_flight, host.in_flight)
            host.hits[self.path] += 1
        try:
            time.sleep(LATENCY)
            body = b"<!doctype html><html><head><title>A page</title></head><body>ok</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with host.lock:
                host.in_flight -= 1

    do_HEAD = do_GET


@pytest.fixture(scope="module")
def web() -> Iterator[list[Host]]:
    hosts = [Host(address) for address in HOSTS]
    for host in hosts:
        threading.Thread(target=host.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
    yield hosts
    for host in hosts:
        host.shutdown()
        host.server_close()


def links(web: list[Host]) -> list[str]:
    return [f"http://{host.server_address[0]}:{host.server_address[1]}/p/{n}"
            for host in web for n in range(LINKS_PER_HOST)]


def start_workers(config: Path, count: int) -> list[subprocess.Popen[str]]:
    return [subprocess.Popen([sys.executable, "-m", "linkfresh", "-c", str(config), "worker",
                              "--until-idle"], cwd=REPO, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
            for _ in range(count)]


def finish(workers: list[subprocess.Popen[str]]) -> None:
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err


def results_per_url(engine: Engine) -> Counter[str]:
    with engine.connect() as conn:
        return Counter(dict(conn.execute(
            select(Resource.url, func.count(ResultRow.id))
            .join(ResultRow, ResultRow.resource_id == Resource.id).group_by(Resource.url)).all()))


def held_by(engine: Engine, pid: int) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Resource).where(
            Resource.lease_owner.like(f"%:{pid}:%"))).scalar_one())


def test_three_workers_share_the_links_exactly_once_and_survive_a_kill(
    tmp_path: Path, postgres: PostgresServer, web: list[Host]
) -> None:
    urls = links(web)
    lines = ["# Guide", ""] + [f"- [page {n}]({url})" for n, url in enumerate(urls)]
    (tmp_path / "guide.md").write_text("\n".join(lines) + "\n")
    url = postgres.new_database()
    config = write_config(
        tmp_path, guides=["guide.md"], database=url, reports_dir=str(tmp_path / "reports"),
        topics=[], feeds=[],
        check={"per_host": PER_HOST, "concurrency": 24, "recheck_after_hours": 0,
               "soft_404_probe": False, "read_timeout": 5, "link_deadline": 20},
        tables={"digest": {"archive_lookup": False},
                "worker": {"lease_seconds": 2, "links_per_slot": 8, "poll_seconds": 0.2}})

    # Round 1: three workers on a fresh database; one is killed while it holds claimed links.
    workers = start_workers(config, WORKERS)
    engine = open_database(url)
    victim = workers[0]
    deadline = time.monotonic() + 60
    while held_by(engine, victim.pid) == 0:
        assert victim.poll() is None and time.monotonic() < deadline, "never held a batch"
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    finish(workers[1:])
    assert results_per_url(engine) == Counter(dict.fromkeys(urls, 1))  # none lost, none twice
    first_hits = Counter({f"{h.server_address[0]}{p}": n for h in web for p, n in h.hits.items()})
    assert len(first_hits) == len(urls)
    # Only links the killed worker held can have been asked for twice.
    assert max(first_hits.values()) <= 2
    assert sum(first_hits.values()) - len(urls) <= 24 * 8

    # Round 2: the check schedule fires again (the round is moved back a year): three workers.
    with engine.begin() as conn:
        conn.execute(update(CheckRound).values(slot=datetime(2025, 1, 1, tzinfo=UTC)))
    finish(start_workers(config, WORKERS))
    assert results_per_url(engine) == Counter(dict.fromkeys(urls, 2))
    second_hits = Counter({f"{h.server_address[0]}{p}": n for h in web for p, n in h.hits.items()})
    assert second_hits - first_hits == Counter(dict.fromkeys(first_hits, 1))  # once each

    assert max(host.max_in_flight for host in web) <= PER_HOST
    with engine.connect() as conn:
        runs = Counter(conn.execute(select(RunRow.kind, RunRow.outcome)).all())
        assert runs == {("check", "ok"): 2, ("collect", "ok"): 1, ("digest", "ok"): 1}
    assert len(list((tmp_path / "reports").glob("digest-*.md"))) == 1
    assert os.path.exists(tmp_path / "reports" / "latest.md")
    engine.dispose()
