"""Runs and check results: start/finish a run, write results in batched transactions as they
arrive (advancing each resource's state), mark killed runs interrupted, thin old results.
"""

from __future__ import annotations

import os
import socket
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import Engine, and_, bindparam, func, insert, select, update

from linkfresh.collector.types import CheckResult
from linkfresh.storage.compact import vacuum_if_due
from linkfresh.storage.engine import Db, release_free_pages, session_scope
from linkfresh.storage.guide_links import ensure_resources, in_chunks
from linkfresh.storage.lock import holder_alive, pid_alive
from linkfresh.storage.models import Resource, ResultRow, RunRow
from linkfresh.storage.references import record_pages
from linkfresh.storage.state import StateRules, Tracked, Verdict, advance
from linkfresh.storage.tracked import resource_values, tracked_from_row

# Results per transaction: each commit writes the WAL (about 4 ms here), and many small
# transactions in the middle of a CPU-bound check cost it more than their own time (a warm
# 10,000-link check: 16.9 s at 250 a batch, 15.4 s at 4,000). A kill -9 loses at most one
# unfinished batch, and `flush_stale` bounds a batch's age.
DEFAULT_BATCH_SIZE = 5000
DEFAULT_MAX_AGE = 5.0  # seconds a result may wait unwritten, when the caller ticks
# Resource columns record_batch never writes from a result (latest_result_id is set by SQL).
_NOT_WRITTEN = frozenset({"id", "url", "latest_result_id"})


class RunOutcome:
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    NETWORK_DOWN = "network-down"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class Recorded:
    """What one stored result did to its resource."""

    url: str
    verdict: Verdict
    event: str | None


def start_run(db: Db, kind: str, now: datetime, *, pid: int | None = None,
              host: str | None = None) -> int:
    """Record a run as started (outcome "running") and return its id."""
    with session_scope(db) as session:
        run = RunRow(kind=kind, started_at=now, pid=os.getpid() if pid is None else pid,
                     host=host or socket.gethostname())
        session.add(run)
        session.flush()
        assert run.id is not None
        return run.id


def finish_run(db: Db, run_id: int, now: datetime, outcome: str,
               counts: dict[str, int] | None = None) -> None:
    with session_scope(db) as session:
        session.execute(update(RunRow).where(RunRow.id == run_id).values(
            finished_at=now, outcome=outcome, counts=dict(counts or {})))


@dataclass
class RunRecord:
    """A run in progress: the block sets `outcome` (and `counts`) before it ends."""

    id: int
    outcome: str = RunOutcome.FAILED
    counts: dict[str, int] = field(default_factory=dict)


@contextmanager
def recorded_run(engine: Engine, kind: str, now: datetime,
                 clock: Callable[[], datetime] | None = None) -> Iterator[RunRecord]:
    """Start a run of `kind`; finish it when the block ends, with the outcome the block set,
    or "failed" if it raised. `clock` dates the finish (default: `now`'s wall clock)."""
    record = RunRecord(start_run(engine, kind, now))
    try:
        yield record
    except BaseException:
        record.outcome = RunOutcome.FAILED
        raise
    finally:
        finished = clock() if clock is not None else datetime.now(now.tzinfo)
        finish_run(engine, record.id, finished, record.outcome, record.counts)


def mark_interrupted(db: Db, now: datetime, *, alive: Callable[[int], bool] = pid_alive,
                     host: str | None = None) -> list[int]:
    """Mark runs left "running" by a process that is gone as "interrupted"; their ids.

    Call it while holding the run lock: then no run on another host can be going either.
    """
    host = host or socket.gethostname()
    with session_scope(db) as session:
        stale = [
            run_id
            for run_id, pid, run_host, started in session.execute(
                select(RunRow.id, RunRow.pid, RunRow.host, RunRow.started_at).where(
                    RunRow.outcome == RunOutcome.RUNNING))
            if not (run_host == host and pid is not None
                    and holder_alive(pid, started, alive))
        ]
        if stale:
            session.execute(update(RunRow).where(RunRow.id.in_(stale)).values(
                outcome=RunOutcome.INTERRUPTED,
                note=f"process gone; marked interrupted at {now.isoformat()}"))
    return stale


def record_batch(db: Db, run_id: int | None, results: Sequence[CheckResult],
                 rules: StateRules, *, network_down: bool = False) -> list[Recorded]:
    """Store `results` and advance their resources, all in one transaction.

    When the network is down nothing is stored: such a run says nothing about any link.
    """
    if network_down or not results:
        return []
    recorded: list[Recorded] = []
    with session_scope(db) as session:
        first = min(r.checked_at for r in results)
        ids = ensure_resources(session, (r.url for r in results), first)
        rows = {row.id: row for row in session.execute(
            select(Resource.__table__).where(Resource.id.in_(set(ids.values()))))}
        tracked: dict[int, Tracked] = {rid: tracked_from_row(row) for rid, row in rows.items()}
        values: dict[int, dict[str, object]] = {}
        inserts: list[dict[str, object]] = []
        pages: list[tuple[int, CheckResult]] = []
        for result in results:
            rid = ids[result.url]
            pages.append((rid, result))
            move = advance(tracked[rid], result.state, result.checked_at, rules)
            tracked[rid] = move.after
            values[rid] = resource_values(values.get(rid) or dict(rows[rid]._mapping),
                                          move.after, result)
            inserts.append(_result_row(rid, run_id, result, move.before.verdict,
                                       move.after.verdict, move.event))
            recorded.append(Recorded(result.url, move.after.verdict,
                                     None if move.event is None else str(move.event)))
        table = ResultRow.__table__
        # A plain executemany: with RETURNING in parameter order, SQLite gets one INSERT per
        # row. The latest result of each resource is then its highest id, set in one UPDATE.
        session.execute(insert(table), inserts)
        res = Resource.__table__
        # Only the columns a result changed are written, one executemany per set of changed
        # columns: a link checked ok again changes two or three, not eighteen.
        by_columns: dict[tuple[str, ...], list[dict[str, object]]] = defaultdict(list)
        for rid, vals in values.items():
            before = rows[rid]._mapping
            changed = {k: v for k, v in vals.items()
                       if k not in _NOT_WRITTEN and v != before[k]}
            if changed:
                by_columns[tuple(sorted(changed))].append({"rid": rid, **changed})
        for columns, params in by_columns.items():
            session.execute(update(res).where(res.c.id == bindparam("rid"))
                            .values({name: bindparam(name) for name in columns}), params)
        latest = (select(func.max(table.c.id)).where(table.c.resource_id == res.c.id)
                  .scalar_subquery())
        for chunk in in_chunks(sorted(values)):
            session.execute(update(res).where(res.c.id.in_(chunk))
                            .values(latest_result_id=latest))
        record_pages(session, pages)
    return recorded


def _result_row(rid: int, run_id: int | None, result: CheckResult, before: Verdict,
                after: Verdict, event: object) -> dict[str, object]:
    return {
        "resource_id": rid, "run_id": run_id, "checked_at": result.checked_at,
        "state": str(result.state), "status": result.status, "final_url": result.final_url,
        "chain": [[hop.url, hop.status, hop.location] for hop in result.chain] or None,
        "error": result.error, "error_class": result.error_class,
        "elapsed_ms": result.elapsed_ms, "etag": result.etag,
        "last_modified": result.last_modified, "title": result.title, "detail": result.detail,
        "verdict": str(after), "previous": str(before), "changed": before != after,
        "event": None if event is None else str(event),
    }


class ResultWriter:
    """Buffer results as the checker yields them; each full batch is one transaction.

    A `kill -9` loses at most the unflushed batch: `batch_size` results, or `max_age`
    seconds of them when the caller calls `flush_stale` while it waits. Leaving the `with`
    block flushes.
    """

    def __init__(self, engine: Engine, run_id: int | None, rules: StateRules, *,
                 batch_size: int = DEFAULT_BATCH_SIZE, network_down: bool = False,
                 max_age: float = DEFAULT_MAX_AGE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine, self.run_id, self.rules = engine, run_id, rules
        self.batch_size, self.network_down = batch_size, network_down
        self.max_age, self.clock = max_age, clock
        self.pending: list[CheckResult] = []
        self.oldest = 0.0  # when the first pending result came
        self.states: Counter[str] = Counter()
        self.events: Counter[str] = Counter()

    def flush_stale(self) -> None:
        """Write the pending results if the oldest has waited `max_age` seconds."""
        if self.pending and self.clock() - self.oldest >= self.max_age:
            self.flush()

    def add(self, result: CheckResult) -> None:
        if not self.pending:
            self.oldest = self.clock()
        self.pending.append(result)
        self.states[str(result.state)] += 1
        if len(self.pending) >= self.batch_size:
            self.flush()

    def extend(self, results: Iterable[CheckResult]) -> None:
        for result in results:
            self.add(result)

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        self._write(batch)

    def _write(self, batch: list[CheckResult]) -> None:
        recorded = record_batch(self.engine, self.run_id, batch, self.rules,
                                network_down=self.network_down)
        self.events.update(r.event for r in recorded if r.event)

    def close(self) -> None:
        """Write what is pending; `ProcessWriter` also waits for its child here."""
        self.flush()

    def counts(self) -> dict[str, int]:
        """Per-state and per-event counts, for the run's `counts`."""
        return {**self.states, **{f"event:{k}": v for k, v in self.events.items()}}

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        # Results already obtained are true evidence even if the run then fails.
        self.close()


def thin(db: Db, now: datetime, retention: timedelta) -> int:
    """Delete results older than `retention`, except state changes and each link's latest.

    Returns how many rows went. This bounds growth per link to the changes it goes through.
    Given an engine, the freed space is then given back to the file system (SQLite); given a
    session, that is the caller's to do after committing (`release_free_pages`).
    """
    table, res = ResultRow.__table__, Resource.__table__
    latest = select(res.c.latest_result_id).where(res.c.latest_result_id.is_not(None))
    with session_scope(db) as session:
        deleted = session.execute(table.delete().where(and_(
            table.c.checked_at < now - retention,
            table.c.changed.is_(False),
            table.c.event.is_(None),
            table.c.id.not_in(latest),
        )))
        count = int(deleted.rowcount or 0)
    if count and isinstance(db, Engine):
        release_free_pages(db)
        vacuum_if_due(db, now)
    return count

