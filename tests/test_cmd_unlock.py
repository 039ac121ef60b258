"""`linkfresh unlock`: clears a lock its run left behind, never one of a running process."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from linkfresh.storage.lock import acquire, current_holder
from linkfresh.storage.migrations import open_database
from tests.cli import run_cli
from tests.configs import write_config
from tests.postgres_server import PostgresServer

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    write_config(tmp_path, fast=False, database="sqlite:///state.db")
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{tmp_path / 'state.db'}"


def test_nothing_to_clear(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(capsys, "unlock")  # no database yet: none is created
    assert result.code == 0 and "no run holds the lock" in result.out
    assert not Path("state.db").exists()
    open_database(db_url).dispose()
    assert run_cli(capsys, "unlock").out.startswith("no run holds the lock")


def test_a_running_process_keeps_its_lock(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    engine = open_database(db_url)
    acquire(engine, datetime.now(UTC), kind="check")  # this test process: alive
    result = run_cli(capsys, "unlock", "--force")
    assert result.code == 4 and "is still running" in result.err
    assert current_holder(engine) is not None


def test_a_gone_process_on_this_host_is_cleared(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = open_database(db_url)
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()  # reaped: its pid is no process now
    gone = finished.pid
    acquire(engine, datetime.now(UTC), pid=gone, kind="collect")
    result = run_cli(capsys, "unlock")
    assert result.code == 0 and f"cleared the lock of the collect run of pid {gone}" in result.out
    assert current_holder(engine) is None


def test_another_hosts_lock_needs_force(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    engine = open_database(db_url)
    acquire(engine, datetime.now(UTC), pid=1, host="build-02", kind="run")
    refused = run_cli(capsys, "unlock")
    assert refused.code == 4 and "on build-02" in refused.err and "--force" in refused.err
    assert current_holder(engine) is not None
    cleared = run_cli(capsys, "unlock", "--force")
    assert cleared.code == 0 and "pid 1 on build-02" in cleared.out
    assert current_holder(engine) is None


def test_postgresql_lock_is_the_servers_to_judge(
    tmp_path: Path, postgres: PostgresServer, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On PostgreSQL the lock is an advisory lock: held while its session lives, even by a
    process on another host (never cleared, even with --force), and gone when it dies."""
    url = postgres.new_database()
    write_config(tmp_path, fast=False, database=url)
    monkeypatch.chdir(tmp_path)
    open_database(url).dispose()
    holder = subprocess.Popen([sys.executable, "-m", "tests.storage_driver", url, "hold"],
                              cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().startswith("locked")
        refused = run_cli(capsys, "unlock", "--force")
        assert refused.code == 4 and "is still running" in refused.err
    finally:
        holder.kill()
        holder.wait()
    assert run_cli(capsys, "unlock").out.startswith("no run holds the lock")
    assert current_holder(open_database(url)) is None
