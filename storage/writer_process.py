"""Recording check results in a child process, so the event loop never waits on the database.

A check is CPU-bound on one core: every millisecond spent writing a batch (state machine,
insert, update, commit) is a millisecond not spent fetching. On a machine with a second
core, `ProcessWriter` hands each full batch to one child process that writes it with the
same `record_batch` as `ResultWriter`. Batches are written one at a time, in the order they
were handed over, so each resource's state still advances in check order.

The child ignores SIGINT and SIGTERM: a Ctrl-C or a service stop reaches the whole process
group, and the parent, which handles them, still hands over what it holds and waits. If the
parent dies (kill -9), the child commits the batch it is writing and exits: as with
`ResultWriter`, the database loses at most the batches not yet written.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from sqlalchemy import Engine

from linkfresh.collector.types import CheckResult
from linkfresh.storage.engine import open_engine, sqlite_path
from linkfresh.storage.runs import (
    DEFAULT_MAX_AGE,
    ResultWriter,
    record_batch,
)
from linkfresh.storage.state import StateRules

_engine: Engine | None = None  # the child's own engine, opened once
_writing = threading.Lock()  # held while a batch is written
_failed = False  # a batch failed: the child writes no more
# Smaller than `ResultWriter`'s batches: a commit no longer holds up the event loop, and the
# last batch, which the parent waits for, is written sooner (0.28 s at 5,000 results).
PROCESS_BATCH_SIZE = 250


class WriterDied(RuntimeError):
    """The child writing the results ended before they were written (killed, out of memory)."""

    def __init__(self) -> None:
        super().__init__("the process writing results to the database ended unexpectedly "
                         "(killed, or out of memory?); the results it had not written yet "
                         "are not recorded")


def can_write_apart(engine: Engine) -> bool:
    """Whether another process can open this database (not an in-memory SQLite one)."""
    return engine.url.get_backend_name() != "sqlite" or sqlite_path(engine) is not None


class ProcessWriter(ResultWriter):
    """A `ResultWriter` whose batches are written by one child process.

    `flush` returns at once; `close` (or leaving the `with` block) waits until every batch
    is written and raises the first error a batch met, as `ResultWriter` would have.
    """

    def __init__(self, engine: Engine, run_id: int | None, rules: StateRules, *,
                 batch_size: int = PROCESS_BATCH_SIZE, network_down: bool = False,
                 max_age: float = DEFAULT_MAX_AGE, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        super().__init__(engine, run_id, rules, batch_size=batch_size,
                         network_down=network_down, max_age=max_age, clock=clock)
        url = engine.url.render_as_string(hide_password=False)
        # spawn, not fork: the parent has threads (the event loop's resolver, the pool's).
        self.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_open_in_child, initargs=(url,))
        # Start the child now: its imports overlap with the first fetches, not a flush.
        self.writes: list[Future[list[str]]] = [self.pool.submit(_ready)]
        self.failed = False

    def _write(self, batch: list[CheckResult]) -> None:
        self._take_written(wait=False)  # a failed batch stops the check here, as in-process
        if batch:
            try:
                self.writes.append(self.pool.submit(
                    _record_in_child, self.run_id, batch, self.rules, self.network_down))
            except BrokenProcessPool as error:
                self.failed = True
                raise WriterDied() from error

    def _take_written(self, *, wait: bool) -> None:
        """Take in the events of the batches written so far (of all of them when `wait`);
        the error a batch met is raised here. The child writes in order, so do they end."""
        while self.writes and (wait or self.writes[0].done()):
            write = self.writes.pop(0)
            if self.failed and write.exception() is not None:
                continue  # refused behind the failed batch, whose error was raised already
            try:
                self.events.update(write.result())
            except BrokenProcessPool as error:
                self.failed = True
                raise WriterDied() from error
            except BaseException:
                self.failed = True
                raise

    def close(self) -> None:
        """Hand over what is pending, wait for every batch, and stop the child."""
        try:
            self.flush()
            self._take_written(wait=True)
        finally:
            self.writes = []
            # Every batch is written (or failed) by now: the child's own exit (0.15 s of
            # interpreter teardown) need not hold up the report. The interpreter reaps it.
            self.pool.shutdown(wait=False, cancel_futures=True)


def _open_in_child(url: str) -> None:
    global _engine
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _engine = open_engine(url)
    threading.Thread(target=_exit_with_parent, name="exit-with-parent", daemon=True).start()


def _exit_with_parent() -> None:
    """Exit once the parent is gone, after the batch being written (if any) is committed.

    The pool's queue alone would never tell the child: it holds both ends of the pipe.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    multiprocessing.connection.wait([parent.sentinel])
    with _writing:
        os._exit(0)


def _ready() -> list[str]:
    return []


def _record_in_child(run_id: int | None, batch: list[CheckResult], rules: StateRules,
                     network_down: bool) -> list[str]:
    """Write one batch; the events it caused (all the parent keeps of `Recorded`).

    After a batch failed, later ones (already queued) are refused: written past a gap, a
    link's state would advance out of order.
    """
    global _failed
    assert _engine is not None, "the initializer opens the engine"
    if _failed:
        raise RuntimeError("not written: an earlier batch of results failed")
    with _writing:
        try:
            recorded = record_batch(_engine, run_id, batch, rules, network_down=network_down)
        except BaseException:
            _failed = True
            raise
    return [r.event for r in recorded if r.event]
