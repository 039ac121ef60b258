"""A stand-in for a checking run, for the lock and kill -9 tests: takes the run lock, then
writes fake results through the real storage API in batches, reporting each commit.

    python -m tests.storage_driver DATABASE_URL hold|write|write-apart [BATCHES]

`write-apart` hands the batches to a `ProcessWriter` and prints the child's pid first.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta

from linkfresh.collector.types import CheckResult, LinkState
from linkfresh.storage.lock import LockHeld, acquire
from linkfresh.storage.migrations import open_database
from linkfresh.storage.runs import ResultWriter, finish_run, mark_interrupted, start_run
from linkfresh.storage.state import StateRules
from linkfresh.storage.writer_process import ProcessWriter

BATCH = 10
LOCKED_EXIT = 4  # linkfresh.exitcodes.LOCKED; storage tests do not import the application


def main(url: str, mode: str, batches: int = 10**6) -> int:
    engine = open_database(url)
    now = datetime.now(UTC)
    try:
        acquire(engine, now, kind="check")
    except LockHeld as held:
        print(f"linkfresh: error: {held}", file=sys.stderr)
        return LOCKED_EXIT
    interrupted = mark_interrupted(engine, now)
    print(f"locked interrupted={interrupted}", flush=True)
    if mode == "hold":
        time.sleep(600)
        return 0
    run_id = start_run(engine, "check", now)
    apart = mode == "write-apart"
    writer = (ProcessWriter if apart else ResultWriter)(engine, run_id, StateRules(),
                                                         batch_size=BATCH)
    if isinstance(writer, ProcessWriter):
        print(f"child {writer.pool.submit(os.getpid).result()}", flush=True)
    for batch in range(batches):
        for n in range(BATCH):
            at = now + timedelta(seconds=batch)
            writer.add(CheckResult(url=f"https://h{n}.example/{batch}", state=LinkState.OK,
                                   checked_at=at, status=200, title="x" * 200))
        # Printed after the commit (after the hand-over, apart; paced, so that the child
        # keeps up and the queue stays short).
        print(f"batch {batch} run {run_id}", flush=True)
        if apart:
            time.sleep(0.01)
    writer.close()
    finish_run(engine, run_id, datetime.now(UTC), "ok", writer.counts())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:4])))
