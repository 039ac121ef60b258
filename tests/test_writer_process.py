"""`ProcessWriter`: the same rows and states as `ResultWriter`, written by a real child
process, in order; its errors reach the parent; Ctrl-C does not stop it; a parent killed
with SIGKILL leaves whole batches and no child behind. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from linkfresh.collector.types import CheckResult, LinkState
from linkfresh.exitcodes import ExitCode
from linkfresh.failures import storage_failure
from linkfresh.machine import usable_cores
from linkfresh.stages.recording import OFFLOAD_FROM, open_writer
from linkfresh.storage.engine import open_engine
from linkfresh.storage.models import Resource, ResultRow
from linkfresh.storage.runs import ResultWriter, start_run
from linkfresh.storage.state import StateRules
from linkfresh.storage.status import link_history
from linkfresh.storage.writer_process import ProcessWriter, WriterDied, can_write_apart
from tests.storage_helpers import T0, database, hours, intact, result

REPO = Path(__file__).resolve().parent.parent
A, B, C = "https://a.example/x", "https://b.example/y", "https://c.example/z"
# Two failures six hours apart confirm a link broken; a good check after that fixes it.
HISTORY = [result(A, LinkState.BROKEN, T0), result(B, LinkState.OK, T0),
           result(A, LinkState.BROKEN, T0 + hours(7)), result(B, LinkState.BROKEN, T0 + hours(7)),
           result(A, LinkState.OK, T0 + hours(8)), result(B, LinkState.OK, T0 + hours(8))]


def stored(engine: Engine) -> tuple[list[tuple[str, str]], list[tuple[str, str, str | None]]]:
    with engine.connect() as conn:
        verdicts = sorted(tuple(r) for r in conn.execute(select(Resource.url, Resource.verdict)))
        rows = conn.execute(select(Resource.url, ResultRow.verdict, ResultRow.event)
                            .join(Resource, Resource.id == ResultRow.resource_id)
                            .order_by(ResultRow.id))
        return verdicts, [tuple(row) for row in rows]


def write_all(writer: ResultWriter, results: list[CheckResult]) -> dict[str, int]:
    with writer:
        writer.extend(results)
    return writer.counts()


def test_same_rows_states_and_events_as_in_process(db_url: str, tmp_path: Path) -> None:
    apart = database(db_url)
    inline = database(f"sqlite:///{tmp_path / 'inline.db'}")
    # Batches of two: each link's checks land in three batches, which must run in order.
    counts = write_all(ProcessWriter(apart, start_run(apart, "check", T0), StateRules(),
                                     batch_size=2), HISTORY)
    expected = write_all(ResultWriter(inline, start_run(inline, "check", T0), StateRules(),
                                      batch_size=2), HISTORY)
    assert counts == expected and counts["event:broken"] == 1 and counts["event:fixed"] == 1
    assert stored(apart) == stored(inline)
    history = link_history(apart, A)
    assert history is not None and [e.event for e in history.entries][-1] == "fixed"
    assert intact(apart)


def test_an_error_in_the_child_reaches_the_parent(db_url: str) -> None:
    engine = database(db_url)
    writer = ProcessWriter(engine, 424242, StateRules())  # no such run: a foreign key error
    writer.add(result(A, LinkState.OK, T0))
    with pytest.raises(IntegrityError):
        writer.close()
    with engine.connect() as conn:  # the failed batch was rolled back whole
        assert conn.execute(select(func.count()).select_from(ResultRow)).scalar_one() == 0


def test_nothing_is_written_after_a_failed_batch(db_url: str) -> None:
    """A batch that fails stops the writing: the batches queued behind it are refused (a
    link's state must not advance past a gap), and the error reaches the parent."""
    engine = database(db_url)
    writer = ProcessWriter(engine, start_run(engine, "check", T0), StateRules(), batch_size=1)
    undated = CheckResult(A, LinkState.OK, None)  # type: ignore[arg-type]  # NOT NULL fails
    writer.add(undated)
    assert writer.writes[-1].exception(timeout=60) is not None  # the child has failed it
    with pytest.raises(IntegrityError):  # raised when the next batch is handed over
        writer.add(result(B, LinkState.OK, T0))
    writer.add(result(C, LinkState.OK, T0))  # as a check winding down might still do
    writer.close()  # C was refused; that raises nothing more
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ResultRow)).scalar_one() == 0


def test_a_killed_writer_is_a_storage_failure_not_a_crash(db_url: str) -> None:
    """The child killed on its own (the OOM killer, say): the next hand-over says so, and
    the command exits 6 with that sentence, not 7 with a traceback file."""
    engine = database(db_url)
    writer = ProcessWriter(engine, start_run(engine, "check", T0), StateRules(), batch_size=1)
    child = writer.pool.submit(os.getpid).result(timeout=60)
    busy = writer.pool.submit(time.sleep, 60)  # ends (broken) once the pool sees the death
    os.kill(child, signal.SIGKILL)
    assert busy.exception(timeout=60) is not None
    with pytest.raises(WriterDied) as died:
        writer.add(result(A, LinkState.OK, T0))
    writer.close()  # nothing more is raised
    failure = storage_failure(died.value, "the database")
    assert failure is not None and failure.code == ExitCode.STORAGE
    assert "ended unexpectedly" in str(failure)


def test_ctrl_c_reaches_the_parent_only(db_url: str) -> None:
    engine = database(db_url)
    with ProcessWriter(engine, start_run(engine, "check", T0), StateRules(),
                       batch_size=1) as writer:
        child = writer.pool.submit(os.getpid).result(timeout=60)
        os.kill(child, signal.SIGINT)  # what a terminal's Ctrl-C sends the whole group
        os.kill(child, signal.SIGTERM)  # and a service manager's stop
        writer.add(result(A, LinkState.OK, T0))
    assert stored(engine)[0] == [(A, "ok")]


def test_a_child_writes_only_for_big_checks_on_a_shareable_database(db_url: str) -> None:
    assert not can_write_apart(open_engine("sqlite://"))  # in memory: no other process sees it
    engine = database(db_url)
    assert can_write_apart(engine)
    run = start_run(engine, "check", T0)
    spare_core = usable_cores() > 1  # on one core a child would only compete
    with open_writer(engine, run, StateRules(), OFFLOAD_FROM) as big:
        assert isinstance(big, ProcessWriter) is spare_core
    with open_writer(engine, run, StateRules(), OFFLOAD_FROM - 1) as small:
        assert type(small) is ResultWriter


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_a_process_held_to_one_core_writes_in_process() -> None:
    """Affinity, not the machine's core count: a container or `taskset` given one core."""
    code = "from linkfresh.machine import usable_cores; print(usable_cores())"
    one = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, preexec_fn=lambda: os.sched_setaffinity(0, {0}))
    assert one.stdout.strip() == "1"


@pytest.mark.skipif(sys.platform == "win32", reason="uses SIGKILL")
def test_parent_killed_leaves_whole_batches_and_no_child(db_url: str) -> None:
    engine = database(db_url)
    driver = subprocess.Popen(
        [sys.executable, "-m", "tests.storage_driver", db_url, "write-apart"], cwd=REPO,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert driver.stdout is not None
    child = 0
    for line in driver.stdout:
        if line.startswith("child"):
            child = int(line.split()[1])
        if line.startswith("batch 20"):
            break
    else:
        pytest.fail(f"driver ended early: {driver.stderr.read() if driver.stderr else ''}")
    driver.send_signal(signal.SIGKILL)
    driver.wait(10)
    deadline = time.monotonic() + 30
    while child_alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not child_alive(child), "the writer outlived its parent"
    with engine.connect() as conn:
        written = conn.execute(select(func.count()).select_from(ResultRow)).scalar_one()
    assert written > 0 and written % 10 == 0  # each batch of ten committed whole or not at all
    assert intact(engine)


def child_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child whose parent died is reaped by init; until then it may linger as a zombie.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
