"""One cycle of stages (check, collect, digest), each under the run lock, logging one line.

Shared by `linkfresh run` (cron: the due stages once) and `linkfresh serve` (APScheduler
fires them); what is due is read from the runs table, never from a job store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from linkfresh.collector.check.netdown import UNREACHABLE
from linkfresh.collector.types import Guide
from linkfresh.context import AppContext, load_and_warn
from linkfresh.exitcodes import ExitCode
from linkfresh.schedule import is_due
from linkfresh.stages.check import check_stage
from linkfresh.stages.collect import collect_stage
from linkfresh.stages.digest import digest_stage
from linkfresh.storage.stage_clock import last_done
from linkfresh.storage.status import status_summary
from linkfresh.store import locked

log = logging.getLogger("linkfresh")
STAGES = ("check", "collect", "digest")
DIGEST_SPAN = timedelta(days=7)


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass
class CycleResult:
    """What a cycle did, for the exit code: worst first."""

    ran: list[str]
    network_down: bool = False
    broken: int = 0

    @property
    def exit_code(self) -> ExitCode:
        if self.network_down:
            return ExitCode.UNVERIFIABLE
        return ExitCode.DEAD_LINKS if self.broken else ExitCode.OK


class Cycle:
    """The stages bound to one app and database; each call takes the run lock itself."""

    def __init__(self, app: AppContext, engine: Engine, clock: Callable[[], datetime] = now_utc):
        self.app, self.engine, self.clock = app, engine, clock
        self.network_down = False

    def due(self, stage: str) -> bool:
        schedule = self.app.settings.schedule
        return is_due(getattr(schedule, stage), schedule.timezone,
                      last_done(self.engine, stage), self.clock())

    def check(self, stop: threading.Event | None = None, *, full: bool = False,
              parsed: Sequence[Guide] | None = None) -> None:
        with locked(self.engine, "check", self.clock):
            stage = check_stage(self.app, self.engine, full=full, clock=self.clock, stop=stop,
                                parsed=parsed)
        counts = stage.report.counts()
        self.network_down = stage.report.network_down
        summary = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
        if stage.report.network_down:
            log.warning("check: %s; nothing was marked broken", UNREACHABLE)
        log.info("check: %d fetched, %d from history: %s%s", stage.fetched, stage.reused,
                 summary, " (stopped)" if stage.stopped else "")

    def collect(self, stop: threading.Event | None = None, *,
                parsed: Sequence[Guide] | None = None) -> None:
        with locked(self.engine, "collect", self.clock):
            outcome = collect_stage(self.app, self.engine, self.clock(), stop=stop,
                                    parsed=parsed)
        failed = [o for o in outcome.outcomes if not o.ok]
        log.info("collect: %d sources, %d failed", len(outcome.outcomes), len(failed))
        for source in failed:
            log.warning("collect: %s", source.summary())

    def digest(self, stop: threading.Event | None = None, *,
               parsed: Sequence[Guide] | None = None) -> None:
        end = self.clock()
        with locked(self.engine, "digest", self.clock):
            # The week's file is this stage's own output: a digest written by hand for the same
            # week (different content) is replaced, never a reason to fail every later run.
            path = digest_stage(self.app, self.engine, end - DIGEST_SPAN, end, parsed=parsed,
                                force=True)
        log.info("digest: wrote %s", path)

    def confirmed_broken(self) -> int:
        """Links the history has confirmed broken (not merely failing once)."""
        check = self.app.settings.check
        summary = status_summary(self.engine, self.clock(),
                                 timedelta(hours=check.recheck_after_hours))
        return summary.verdicts.get("broken", 0)

    def run_due(self, *, every: bool = False, full: bool = False) -> CycleResult:
        """Run each stage that is due (all with `every`), in order; the exit code's facts.

        The guides are read once here and handed to every stage that runs.
        """
        ran: list[str] = []
        due = [stage for stage in STAGES if every or self.due(stage)]
        parsed = load_and_warn(self.app, None) if due else None
        for stage in STAGES:
            if stage not in due:
                log.info("%s: not due", stage)
                continue
            if stage == "collect" and self.network_down:
                # Every source would fail too; left due, it runs when the network is back.
                log.warning("collect: skipped: %s", UNREACHABLE)
                continue
            if stage == "check":
                self.check(full=full, parsed=parsed)
            elif stage == "collect":
                self.collect(parsed=parsed)
            else:
                self.digest(parsed=parsed)
            ran.append(stage)
        return CycleResult(ran, self.network_down, self.confirmed_broken())
