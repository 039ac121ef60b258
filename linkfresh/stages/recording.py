"""Recording check results as they arrive, without letting a network outage change any state.

Results are written in batches while the check runs (a kill loses one batch at most). But
"the network is down" is only known at the end, and then nothing may change; so results
that got no answer at all are held back until some host that should answer has answered.
If none ever does, the held results are dropped and nothing was written.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Engine

from linkfresh.collector.check.netdown import is_network_failure
from linkfresh.collector.guide.unwrap import host_of
from linkfresh.collector.types import CheckResult, LinkState
from linkfresh.machine import usable_cores
from linkfresh.storage.runs import ResultWriter
from linkfresh.storage.state import StateRules
from linkfresh.storage.writer_process import ProcessWriter, can_write_apart

# Due links from which a child process writes the results. Below it, recording in the event
# loop costs a few hundred milliseconds at most, less than starting the child (about 0.5 s
# of the other core's time).
OFFLOAD_FROM = 2000


def open_writer(engine: Engine, run_id: int, rules: StateRules, due: int, *,
                offload_from: int = OFFLOAD_FROM) -> ResultWriter:
    """The writer for a check of `due` links: a `ProcessWriter` for a big check on a machine
    with a core to spare and a database another process can open, else a `ResultWriter`."""
    if due >= offload_from and usable_cores() > 1 and can_write_apart(engine):
        return ProcessWriter(engine, run_id, rules)
    return ResultWriter(engine, run_id, rules)


class GatedRecorder:
    """Feeds a `ResultWriter`, holding results back until the network is known to be up.

    `yardstick_hosts` are the hosts that answered last time among those this run will try;
    when empty, an answer from any host opens the gate. This matches `network_down`, so the
    gate is open exactly when the run will not be called "network down".
    """

    def __init__(self, writer: ResultWriter, yardstick_hosts: Collection[str]) -> None:
        self.writer = writer
        self.yardstick = {host.lower() for host in yardstick_hosts}
        self.held: list[CheckResult] = []
        self.recorded: set[str] = set()
        self.open = False

    def _opens_gate(self, result: CheckResult) -> bool:
        if result.state is LinkState.SKIPPED or is_network_failure(result):
            return False
        return not self.yardstick or host_of(result.url) in self.yardstick

    def add(self, result: CheckResult) -> None:
        if result.url in self.recorded:
            return
        self.recorded.add(result.url)
        if self.open:
            self.writer.add(result)
            return
        self.held.append(result)
        if self._opens_gate(result):
            self.open = True
            self.writer.extend(self.held)
            self.held = []

    def flush_stale(self) -> None:
        """Write what waited too long (nothing while the gate is closed)."""
        if self.open:
            self.writer.flush_stale()

    def finish(self, network_down: bool) -> None:
        """Write what is left, unless the network was down (then nothing changes)."""
        if network_down:
            self.held = []
            return
        self.writer.extend(self.held)
        self.held = []
        self.writer.close()
