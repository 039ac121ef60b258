"""`linkfresh run` (one cycle, for cron) and `linkfresh serve` (the APScheduler daemon)."""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from linkfresh.commands.options import Quiet
from linkfresh.context import AppContext
from linkfresh.daemon import Daemon, JobInfo
from linkfresh.exitcodes import Fail
from linkfresh.failures import os_failure
from linkfresh.schedule import cron_trigger
from linkfresh.stages.cycle import STAGES, Cycle
from linkfresh.storage.stage_clock import last_done, write_heartbeat
from linkfresh.store import opened

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Under systemd the journal adds its own timestamps (JOURNAL_STREAM is set for its units).
_JOURNAL_FORMAT = "%(levelname)s %(name)s: %(message)s"


def configure_logging(verbose: int, log_file: Path | None = None, *, default: int) -> None:
    """Log to stderr (or `log_file`): warnings only unless -v, as `default` says for serve."""
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose or default <= 20 else default
    fmt = _JOURNAL_FORMAT if os.environ.get("JOURNAL_STREAM") and log_file is None else _FORMAT
    try:
        handler: logging.Handler = (logging.FileHandler(log_file, encoding="utf-8") if log_file
                                    else logging.StreamHandler(sys.stderr))
    except OSError as error:
        raise os_failure(error, f"--log-file {log_file}: cannot open") from None
    handler.setFormatter(logging.Formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("linkfresh").setLevel(level)
    if verbose > 1:
        logging.getLogger("apscheduler").setLevel(logging.INFO)


def check_schedule(app: AppContext) -> None:
    """Exit 2 naming the key when a `[schedule]` cron string cannot fire (say `99 99 * * *`),
    before any stage runs: APScheduler only says so when the trigger is built."""
    schedule = app.settings.schedule
    for stage in STAGES:
        expression = getattr(schedule, stage)
        try:
            cron_trigger(expression, schedule.timezone)
        except (ValueError, TypeError, KeyError) as error:
            raise Fail(f"bad configuration:\n{app.config_name}: schedule.{stage}: "
                       f"{expression!r} is not a valid cron string: {error}") from None


Verbose = Annotated[int, typer.Option("--verbose", "-v", count=True, show_default=False,
                                      help="Log each stage.")]


def run(
    ctx: typer.Context,
    every: Annotated[bool, typer.Option("--all", help="Run every stage, due or not.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Check every link, not only due ones.")]
    = False,
    verbose: Verbose = 0,
    quiet: Quiet = 0,
) -> None:
    """One cycle for cron: check, collect and digest, each when its schedule says it is due.

    Safe to run every hour. Exit 0 ok, 1 links confirmed broken, 2 bad config or input,
    3 network down, 4 another run holds the lock. With -q only errors are logged.
    """
    app: AppContext = ctx.obj
    check_schedule(app)
    app.quiet += quiet
    configure_logging(app.verbose + verbose,
                      default=logging.ERROR if app.quiet else logging.WARNING)
    with opened(app) as engine:
        result = Cycle(app, engine).run_due(every=every, full=full)
    if result.exit_code:
        raise typer.Exit(int(result.exit_code))


def serve(
    ctx: typer.Context,
    log_file: Annotated[Path | None, typer.Option("--log-file", metavar="FILE",
                                                   help="Log here, not stderr.")]
    = None,
    verbose: Verbose = 0,
) -> None:
    """Run as a daemon: check, collect and digest on the [schedule] cron strings.

    SIGTERM or SIGINT stops it: no new work starts, the running stage stops at a safe
    point within schedule.shutdown_grace seconds, and it exits 0.
    """
    app: AppContext = ctx.obj
    check_schedule(app)
    configure_logging(app.verbose + verbose, log_file, default=logging.INFO)
    started = datetime.now(UTC)
    with opened(app) as engine:
        cycle = Cycle(app, engine)

        def beat(jobs: list[JobInfo]) -> None:
            write_heartbeat(engine, {
                "pid": os.getpid(),
                "started_at": started.isoformat(),
                "beat_at": datetime.now(UTC).isoformat(),
                "jobs": {job.name: {
                    "schedule": job.schedule,
                    "last_run": job.last_run.isoformat() if job.last_run else None,
                    "next_run": job.next_run.isoformat() if job.next_run else None,
                } for job in jobs},
            })

        daemon = Daemon(
            app.settings.schedule,
            {stage: getattr(cycle, stage) for stage in STAGES},
            last_done=lambda stage: last_done(engine, stage),
            heartbeat=beat,
        )
        if not daemon.serve():
            # A stage is stuck past the grace period (a source that never answers): the
            # process ends anyway, as promised to systemd; its run is marked interrupted and
            # its lock taken over by the next run, as after a kill.
            logging.shutdown()
            os._exit(0)
