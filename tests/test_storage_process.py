"""The run lock and crash safety with real processes: a second run exits 4, a stale lock is
taken over, and a run killed with SIGKILL leaves a sound database and is marked interrupted.
On SQLite and on PostgreSQL (where the lock is an advisory lock the server frees).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from linkfresh.storage.lock import LockHeld, acquire, current_holder, process_started_at, release
from linkfresh.storage.migrations import open_database
from linkfresh.storage.models import ResultRow, RunRow
from linkfresh.storage.runs import mark_interrupted, start_run
from tests.storage_helpers import T0, intact, sqlite_file

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="uses SIGKILL")


def driver(url: str, mode: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.storage_driver", url, mode, *args],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(proc: subprocess.Popen[str], prefix: str) -> str:
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        assert line, f"driver ended early: {proc.stderr.read() if proc.stderr else ''}"
        if line.startswith(prefix):
            return line


@pytest.fixture
def url(db_url: str) -> str:
    open_database(db_url).dispose()
    return db_url


def test_second_run_exits_4_naming_the_holder(url: str) -> None:
    holder = driver(url, "hold")
    try:
        wait_for(holder, "locked")
        second = driver(url, "hold")
        _, err = second.communicate(timeout=30)
        assert second.returncode == 4
        started = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00"
        assert re.search(rf"another run \(pid {holder.pid}, started {started}\) holds the lock",
                         err), err
    finally:
        holder.kill()
        holder.wait()


def test_stale_lock_of_a_dead_process_is_taken_over(url: str) -> None:
    holder = driver(url, "hold")
    wait_for(holder, "locked")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    engine = open_database(url)
    stale = current_holder(engine)
    if engine.dialect.name == "postgresql":
        assert stale is None  # the server ended the killed session's advisory lock
    else:
        assert stale is not None and stale.pid == holder.pid
    mine = acquire(engine, datetime.now(UTC))
    assert mine.pid == os.getpid()
    with pytest.raises(LockHeld):  # now ours, and we are alive
        acquire(engine, datetime.now(UTC), pid=os.getpid() + 1)
    release(engine, mine)
    assert current_holder(engine) is None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                    reason="process start times are read from Linux's /proc")
def test_a_lock_whose_pid_now_belongs_to_a_younger_process_is_taken_over(tmp_path: Path) -> None:
    """After a reboot a killed run's pid can belong to anything: a process that started
    after the lock was taken cannot be the one that took it. (SQLite: PostgreSQL judges no
    pid, its server knows whether the lock's session is alive.)"""
    engine = open_database(sqlite_file(tmp_path))
    started = process_started_at(os.getpid())
    assert started is not None and started <= datetime.now(UTC)
    long_ago = started - timedelta(days=1)
    acquire(engine, long_ago, pid=os.getpid(), kind="check")  # "our" pid, a day before we ran
    run_id = start_run(engine, "check", long_ago)
    mine = acquire(engine, datetime.now(UTC))
    assert mine.started_at > long_ago and current_holder(engine) == mine
    assert mark_interrupted(engine, datetime.now(UTC)) == [run_id]
    release(engine, mine)
    acquire(engine, started + timedelta(seconds=1))  # taken after we started: really ours
    with pytest.raises(LockHeld):
        acquire(engine, datetime.now(UTC), pid=os.getpid() + 1)


def test_a_lock_held_on_another_host_is_not_taken(url: str) -> None:
    engine = open_database(url)
    acquire(engine, T0, pid=1, host="elsewhere")
    with pytest.raises(LockHeld, match=r"pid 1 on elsewhere, started 2026-03-02T06:00:00"):
        acquire(engine, T0, alive=lambda pid: False)


def test_kill_9_mid_run_keeps_committed_batches(url: str) -> None:
    writer = driver(url, "write")
    wait_for(writer, "locked")
    committed = 0
    for _ in range(5):
        line = wait_for(writer, "batch")
        committed = int(line.split()[1]) + 1
    run_id = int(line.split()[3])
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    engine = open_database(url)
    assert intact(engine)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(ResultRow)).scalar_one()
        # Every batch reported committed is there; at most a few more got in before the kill.
        assert stored >= committed * 10 and stored % 10 == 0
        assert conn.execute(select(RunRow.outcome).where(RunRow.id == run_id)).scalar_one() \
            == "running"
    after = driver(url, "write", "2")  # the next run takes the stale lock, marks, goes on
    out, err = after.communicate(timeout=60)
    assert after.returncode == 0, err
    assert f"interrupted=[{run_id}]" in out
    with engine.connect() as conn:
        outcomes = dict(conn.execute(select(RunRow.id, RunRow.outcome)).all())
        assert outcomes[run_id] == "interrupted"
        assert sorted(outcomes.values()) == ["interrupted", "ok"]
    assert intact(engine)
