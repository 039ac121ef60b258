"""`linkfresh serve`: APScheduler fires the stages on their cron schedules until a signal.

What is due lives in the database (the runs table), not in APScheduler's job store: on
start, any stage whose schedule fired since it last ran is run once, so a digest missed
during downtime still happens, and only once. Stages run one at a time on one worker.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor as APThreadPool
from apscheduler.schedulers.background import BackgroundScheduler

from linkfresh.config.settings import ScheduleSettings
from linkfresh.exitcodes import Fail
from linkfresh.failures import storage_failure, unexpected
from linkfresh.schedule import cron_trigger, is_due

log = logging.getLogger("linkfresh.serve")

# A stage gets an event that is set when the daemon is asked to stop; it must then stop at
# its next safe point (after the current database batch).
Stage = Callable[[threading.Event], object]


@dataclass(frozen=True)
class JobInfo:
    """What `status` shows for one job of the daemon."""

    name: str
    schedule: str
    last_run: datetime | None
    next_run: datetime | None


class Daemon:
    """Owns the scheduler, the single worker, signal handling and the heartbeat."""

    def __init__(
        self,
        schedule: ScheduleSettings,
        stages: Mapping[str, Stage],
        last_done: Callable[[str], datetime | None],
        heartbeat: Callable[[list[JobInfo]], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.schedule = schedule
        self.stages = dict(stages)
        self.last_done = last_done
        self.heartbeat = heartbeat
        self.clock = clock
        self.stop = threading.Event()
        self._current: Future[object] | None = None
        self._lock = threading.Lock()
        self._last_run: dict[str, datetime | None] = {name: last_done(name) for name in stages}
        self.scheduler = BackgroundScheduler(
            executors={"default": APThreadPool(1)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(schedule.misfire_grace),
            },
            timezone=schedule.timezone,
        )

    def _expression(self, name: str) -> str:
        return str(getattr(self.schedule, name))

    def _run_stage(self, name: str) -> None:
        """Run one stage on the worker and wait for it; skipped once stopping."""
        if self.stop.is_set():
            return
        with self._lock:
            self._current = future = self._start(name)
        log.info("stage %s started", name)
        try:
            future.result()
            log.info("stage %s finished", name)
        except Fail as failure:
            log.error("stage %s failed: %s", name, failure)
        except Exception as error:  # one line; a bug's traceback goes to a crash file
            log.error("stage %s failed: %s", name, storage_failure(error) or unexpected(error))
        finally:
            self._last_run[name] = self.clock()
            self._beat()

    def _start(self, name: str) -> Future[object]:
        """Run stage `name` on its own daemon thread: a stage stuck past the grace period
        (a source that never answers) cannot keep the process from exiting."""
        future: Future[object] = Future()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(self.stages[name](self.stop))
            except BaseException as error:  # handed to the waiting thread, which logs it
                future.set_exception(error)

        threading.Thread(target=work, name=f"linkfresh-stage-{name}", daemon=True).start()
        return future

    def jobs(self) -> list[JobInfo]:
        infos = []
        for name in self.stages:
            job = self.scheduler.get_job(name)
            next_run = getattr(job, "next_run_time", None) if job else None
            infos.append(JobInfo(name, self._expression(name), self._last_run.get(name), next_run))
        return infos

    def _beat(self) -> None:
        try:
            self.heartbeat(self.jobs())
        except Exception as error:  # a failed heartbeat must never stop the daemon
            log.warning("heartbeat failed: %s", str(error).splitlines()[0] if str(error)
                        else type(error).__name__)

    def _on_event(self, event: JobExecutionEvent) -> None:
        self._beat()

    def catch_up(self) -> list[str]:
        """Run, once each, the stages whose schedule fired since they last ran."""
        now = self.clock()
        due = [
            name
            for name in self.stages
            if is_due(self._expression(name), self.schedule.timezone, self.last_done(name), now)
        ]
        ran = []
        for name in due:
            if self.stop.is_set():
                break
            log.info("stage %s is due since before start: running it now", name)
            self._run_stage(name)
            ran.append(name)
        return ran

    def request_stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        if signum is not None:
            log.info("received %s: stopping", signal.Signals(signum).name)
        self.stop.set()

    def serve(self, install_signals: bool = True) -> bool:
        """Block until stopped; the current stage gets `shutdown_grace` seconds to finish.

        Returns False when a stage was still running at the end of the grace period: the
        caller must then end the process (`os._exit`), since that stage may never return.
        """
        if install_signals:
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGINT, self.request_stop)
        for name in self.stages:
            trigger = cron_trigger(self._expression(name), self.schedule.timezone)
            self.scheduler.add_job(self._run_stage, trigger, args=[name], id=name, name=name)
        self.scheduler.add_listener(self._on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        self.scheduler.start(paused=True)
        self._beat()
        catch_up = threading.Thread(target=self.catch_up, name="linkfresh-catch-up", daemon=True)
        catch_up.start()
        while catch_up.is_alive() and not self.stop.wait(0.2):
            pass
        if not self.stop.is_set():
            self.scheduler.resume()
            log.info("serving: %s", ", ".join(f"{j.name} next {j.next_run}" for j in self.jobs()))
            self.stop.wait()
        return self.shutdown()

    def shutdown(self) -> bool:
        """Stop taking work; give the running stage its grace period; never raise.

        Returns whether no stage is left running.
        """
        self.scheduler.shutdown(wait=False)
        with self._lock:
            current = self._current
        finished = True
        if current is not None and not current.done():
            grace = self.schedule.shutdown_grace
            log.info("waiting up to %.0fs for the running stage", grace)
            try:
                current.result(timeout=grace)
            except FutureTimeout:
                finished = False
                log.warning("the running stage did not stop within %.0fs; exiting without it "
                            "(its run is marked interrupted by the next one)", grace)
            except Exception:
                log.warning("the running stage did not finish cleanly")
        if finished:
            self._beat()  # not while an abandoned stage may still hold the database
        log.info("stopped")
        return finished
