"""`linkfresh serve` and `linkfresh run` as real processes against local servers.

The daemon runs with schedules of seconds; the tests read what it did from the database.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.configs import write_config
from tests.servers import LocalServer, Reply, html_page

NewServer = Callable[[], LocalServer]


def config(folder: Path, *, check: str, digest: str, grace: float = 5.0) -> Path:
    schedule = {"check": check, "collect": "0 0 1 1 *", "digest": digest,
                "shutdown_grace": grace}
    return write_config(folder, guides=["guide.md"], database="sqlite:///state.db",
                        reports_dir="out", topics=[], feeds=[],
                        check={"connect_timeout": 1, "read_timeout": 60, "link_deadline": 120,
                               "retries": 0},
                        tables={"schedule": schedule})


def guide(folder: Path, *urls: str) -> None:
    lines = ["# Guide", ""] + [f"- [link {n}]({url})" for n, url in enumerate(urls)]
    (folder / "guide.md").write_text("\n".join(lines) + "\n")


def start(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "linkfresh", "--config", str(folder / "linkfresh.toml"), *args],
        cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def runs(folder: Path, kind: str) -> list[tuple[str, str | None]]:
    if not (folder / "state.db").exists():
        return []
    db = sqlite3.connect(folder / "state.db", timeout=10)
    try:
        return db.execute("SELECT outcome, finished_at FROM run WHERE kind = ? ORDER BY id",
                          (kind,)).fetchall()
    except sqlite3.OperationalError:  # the daemon has not created its tables yet
        return []
    finally:
        db.close()


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def stop(process: subprocess.Popen[str], timeout: float = 15.0) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"serve did not stop within {timeout}s:\n{err}")
    return process.returncode, err


def integrity(folder: Path) -> str:
    with sqlite3.connect(folder / "state.db") as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def test_jobs_fire_and_the_missed_digest_is_written_once(
    tmp_path: Path, new_server: NewServer
) -> None:
    server = new_server()
    guide(tmp_path, server.route("/serve/page", html_page("Page")))
    # Digest weekly (it fired last Monday or earlier: missed, so due at start); check every 2 s.
    config(tmp_path, check="*/2 * * * * *", digest="0 8 * * 1")
    daemon = start(tmp_path, "serve")
    try:
        assert wait_for(lambda: len(runs(tmp_path, "check")) >= 2), daemon.stderr
        assert wait_for(lambda: len(runs(tmp_path, "digest")) == 1)
        time.sleep(2.5)  # more checks fire; the digest is not due again this week
    finally:
        code, err = stop(daemon)
    assert code == 0, err
    assert [outcome for outcome, _ in runs(tmp_path, "digest")] == ["ok"]
    assert len(list((tmp_path / "out").glob("digest-*.md"))) == 1
    assert (tmp_path / "out" / "latest.md").exists()
    assert integrity(tmp_path) == "ok"
    status = subprocess.run(
        [sys.executable, "-m", "linkfresh", "status"], cwd=tmp_path, capture_output=True,
        text=True, check=False)
    assert f"Daemon: pid {daemon.pid}" in status.stdout
    # A restart in the same week does not write the digest again.
    daemon = start(tmp_path, "serve")
    try:
        assert wait_for(lambda: len(runs(tmp_path, "check")) >= 4)
    finally:
        code, err = stop(daemon)
    assert code == 0, err
    assert len(runs(tmp_path, "digest")) == 1


def test_sigterm_mid_check_exits_cleanly(tmp_path: Path, new_server: NewServer) -> None:
    server = new_server()
    slow = server.route("/serve/slow", Reply(200, {"Content-Type": "text/html"}, delay=60))
    guide(tmp_path, server.route("/serve/fast", html_page("Fast")), slow)
    config(tmp_path, check="*/1 * * * * *", digest="0 8 1 1 *", grace=2.0)
    # The digest already ran this period: only the check fires.
    daemon = start(tmp_path, "serve")
    try:
        assert wait_for(lambda: server.count("/serve/slow") >= 1), daemon.stderr
    finally:
        began = time.monotonic()
        code, err = stop(daemon)
    assert code == 0, err
    assert time.monotonic() - began < 10  # within the grace period, not the slow page's 60 s
    assert integrity(tmp_path) == "ok"
    outcomes = [outcome for outcome, _ in runs(tmp_path, "check")]
    assert outcomes and outcomes[-1] == "interrupted" and "running" not in outcomes


def test_run_does_only_due_work_and_holds_the_lock(tmp_path: Path, new_server: NewServer) -> None:
    server = new_server()
    guide(tmp_path, server.route("/run/page", html_page("Page")))
    config(tmp_path, check="0 6 * * *", digest="0 8 * * 1")
    first = subprocess.run([sys.executable, "-m", "linkfresh", "run", "-v"], cwd=tmp_path,
                           capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    assert "check:" in first.stderr and "digest: wrote" in first.stderr
    assert [len(runs(tmp_path, k)) for k in ("check", "collect", "digest")] == [1, 1, 1]
    again = subprocess.run([sys.executable, "-m", "linkfresh", "run"], cwd=tmp_path,
                           capture_output=True, text=True, check=False)
    assert again.returncode == 0 and again.stderr == ""  # quiet unless -v
    assert [len(runs(tmp_path, k)) for k in ("check", "collect", "digest")] == [1, 1, 1]
    assert server.count("/run/page") == 1


def test_run_exits_4_while_another_run_holds_the_lock(tmp_path: Path) -> None:
    from linkfresh.storage.lock import acquire
    from linkfresh.storage.migrations import open_database

    guide(tmp_path, "https://example.invalid/")
    config(tmp_path, check="0 6 * * *", digest="0 8 * * 1")
    engine = open_database(f"sqlite:///{tmp_path / 'state.db'}")
    acquire(engine, datetime.now(UTC), kind="test")  # held by this (living) test process
    done = subprocess.run([sys.executable, "-m", "linkfresh", "run"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 4
    assert "another run (pid" in done.stderr and "holds the lock" in done.stderr


def test_run_offline_exits_3_and_leaves_collect_due(tmp_path: Path) -> None:
    from tests.servers import closed_port

    refused = [f"http://127.0.4.{n}:{closed_port(f'127.0.4.{n}')}/x" for n in (1, 2)]
    guide(tmp_path, *refused)
    config(tmp_path, check="0 6 * * *", digest="0 8 * * 1")
    done = subprocess.run([sys.executable, "-m", "linkfresh", "run", "-v"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 3, done.stderr
    assert "could not verify: network unreachable" in done.stderr
    assert "collect: skipped" in done.stderr
    assert runs(tmp_path, "collect") == []  # still due: it runs once the network is back
    assert [outcome for outcome, _ in runs(tmp_path, "check")] == ["network-down"]
