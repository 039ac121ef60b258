"""Runs as the scheduler sees them: recorded_run's outcomes, last_done, the heartbeat."""

from __future__ import annotations

from datetime import timedelta

import pytest

from linkfresh.storage.runs import RunOutcome, recorded_run
from linkfresh.storage.stage_clock import last_done, read_heartbeat, write_heartbeat
from tests.storage_helpers import T0, database


def test_recorded_run_outcomes_and_last_done(db_url: str) -> None:
    engine = database(db_url)
    assert last_done(engine, "digest") is None
    with recorded_run(engine, "digest", T0, lambda: T0 + timedelta(minutes=1)) as run:
        run.outcome = RunOutcome.OK
    assert last_done(engine, "digest") == T0
    later = T0 + timedelta(days=1)
    with pytest.raises(RuntimeError), recorded_run(engine, "digest", later) as run:
        run.outcome = RunOutcome.OK  # set, but the block then fails: the run failed
        raise RuntimeError("disk full")
    assert last_done(engine, "digest") == T0  # a failed run stays due
    for outcome in (RunOutcome.INTERRUPTED, RunOutcome.NETWORK_DOWN):
        with recorded_run(engine, "digest", later + timedelta(days=1)) as run:
            run.outcome = outcome
        assert last_done(engine, "digest") == T0
    engine.dispose()


def test_heartbeat_round_trip(db_url: str) -> None:
    engine = database(db_url)
    assert read_heartbeat(engine) is None
    write_heartbeat(engine, {"pid": 42, "jobs": {"check": {"next_run": "x"}}})
    write_heartbeat(engine, {"pid": 43, "jobs": {}})
    assert read_heartbeat(engine) == {"pid": 43, "jobs": {}}
    engine.dispose()
