"""The daemon's scheduling logic with stand-in stages (the real daemon runs in test_serve.py)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from linkfresh.config.settings import ScheduleSettings
from linkfresh.daemon import Daemon, JobInfo


def _schedule(**changes: object) -> ScheduleSettings:
    base = {"check": "0 6 * * *", "collect": "30 6 * * *", "digest": "0 8 * * mon",
            "shutdown_grace": 2.0}
    return ScheduleSettings.model_validate(base | changes)


def test_catch_up_runs_each_missed_stage_once() -> None:
    ran: list[str] = []
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a Monday, after 08:00
    done = {"check": now - timedelta(hours=1), "collect": now - timedelta(hours=1),
            "digest": now - timedelta(days=7)}
    daemon = Daemon(
        _schedule(),
        {name: (lambda stop, name=name: ran.append(name)) for name in done},
        last_done=lambda name: done[name],
        heartbeat=lambda jobs: None,
        clock=lambda: now,
    )
    assert daemon.catch_up() == ["digest"]
    assert ran == ["digest"]


def test_jobs_fire_on_a_seconds_schedule_and_stop_waits_for_the_stage() -> None:
    fired = threading.Event()
    finished = threading.Event()
    beats: list[list[JobInfo]] = []

    def slow_check(stop: threading.Event) -> None:
        fired.set()
        stop.wait(5)  # a stage stops at its next safe point once asked
        finished.set()

    daemon = Daemon(
        _schedule(check="* * * * * *"),
        {"check": slow_check},
        last_done=lambda name: datetime.now(UTC),
        heartbeat=beats.append,
    )
    server = threading.Thread(target=daemon.serve, kwargs={"install_signals": False})
    server.start()
    assert fired.wait(5)
    daemon.request_stop()
    server.join(5)
    assert not server.is_alive()
    assert finished.is_set()
    assert beats and beats[-1][0].name == "check" and beats[-1][0].last_run is not None
