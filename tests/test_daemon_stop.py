"""The daemon told to stop: no stage starts after that, and its heartbeat never trips over a
stage's write (issue 13, item 6)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from linkfresh.config.settings import ScheduleSettings
from linkfresh.daemon import Daemon
from linkfresh.storage.migrations import open_database
from linkfresh.storage.stage_clock import read_heartbeat, write_heartbeat

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a Monday, after 08:00


def test_no_stage_is_announced_or_run_after_the_stop(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []
    daemon: Daemon

    def check(stop: threading.Event) -> None:
        ran.append("check")
        daemon.request_stop()  # SIGTERM arrives while the first due stage runs

    daemon = Daemon(
        ScheduleSettings(),
        {"check": check, "collect": lambda stop: ran.append("collect"),
         "digest": lambda stop: ran.append("digest")},
        last_done=lambda name: NOW - timedelta(days=8),
        heartbeat=lambda jobs: None,
        clock=lambda: NOW,
    )
    with caplog.at_level(logging.INFO, logger="linkfresh.serve"):
        assert daemon.catch_up() == ["check"]
    assert ran == ["check"]
    assert not [r for r in caplog.records if "running it now" in r.getMessage()
                and "check" not in r.getMessage()]


def test_a_failed_stage_and_a_failed_heartbeat_log_one_line(
    caplog: pytest.LogCaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)

    def broken(stop: threading.Event) -> None:
        raise RuntimeError("stage bug")

    def heartbeat(jobs: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    daemon = Daemon(ScheduleSettings(), {"check": broken}, last_done=lambda name: None,
                    heartbeat=heartbeat, clock=lambda: NOW)
    with caplog.at_level(logging.INFO, logger="linkfresh.serve"):
        daemon.catch_up()
    messages = [record.getMessage() for record in caplog.records]
    assert all(record.exc_info is None for record in caplog.records)
    assert any("stage check failed: internal error (RuntimeError: stage bug)" in m
               for m in messages)
    assert "heartbeat failed: database is locked" in messages
    assert list(tmp_path.glob("linkfresh-crash-*.txt"))


def test_the_heartbeat_waits_for_a_stage_that_commits_between_its_statements(
    tmp_path: Path
) -> None:
    path = tmp_path / "state.db"
    engine = open_database(f"sqlite:///{path}")
    write_heartbeat(engine, {"beat": 0})
    interfered: list[str] = []

    @event.listens_for(engine, "after_cursor_execute")
    def stage_commits(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # Another connection (the running stage) commits right after the heartbeat's first
        # statement. Reading first would pin an old snapshot, and SQLite then fails the
        # heartbeat's write at once with "database is locked", whatever the busy timeout.
        if interfered or "meta" not in statement.lower():
            return
        interfered.append(statement)
        other = sqlite3.connect(path, timeout=0.2)
        try:
            other.execute("INSERT INTO meta (name, value) VALUES ('stage', 'wrote')")
            other.commit()
        except sqlite3.OperationalError:
            interfered.append("the heartbeat holds the write lock: the stage waits")
        finally:
            other.close()

    write_heartbeat(engine, {"beat": 1})
    assert interfered
    assert read_heartbeat(engine) == {"beat": 1}
    engine.dispose()
