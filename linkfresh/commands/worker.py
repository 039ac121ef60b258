"""`linkfresh worker`: one of any number of check workers sharing the database."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from datetime import UTC, datetime
from types import FrameType
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from linkfresh.commands.run import Verbose, configure_logging
from linkfresh.context import AppContext, load_and_warn
from linkfresh.exitcodes import ExitCode, Fail
from linkfresh.stages.worker import sync_guides, work
from linkfresh.store import opened

log = logging.getLogger("linkfresh")


def worker(
    ctx: typer.Context,
    until_idle: Annotated[bool, typer.Option(
        "--until-idle", help="Exit once no round is open (nothing is due), instead of "
                             "waiting for the next one.")] = False,
    verbose: Verbose = 0,
) -> None:
    """Check due links together with other workers on any machines sharing the database.

    Syncs the configured guides, then claims batches of due links, checks and records them;
    collects and writes the digest when due (one worker does each). SIGTERM or SIGINT: the
    batch in hand is finished and recorded, then it exits 0. Exit 3: the network is down
    (with --until-idle; otherwise it waits and tries again). Exit 2: bad config, or the
    database failed (its leases then run out and other workers carry on).
    """
    app: AppContext = ctx.obj
    configure_logging(app.verbose + verbose, default=logging.INFO)
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping after this batch", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    guides = load_and_warn(app, None)
    with opened(app) as engine:
        try:
            sync_guides(engine, guides, datetime.now(UTC))
            outcome = asyncio.run(work(app, engine, guides, until_idle=until_idle, stop=stop))
        except SQLAlchemyError as error:
            # The database went away mid-work (a restart, the network): leases it held run out
            # and other workers carry on; a service manager restarts this one.
            first = str(error).splitlines()[0]
            raise Fail(f"database failure, worker stopped: {first}", ExitCode.USAGE) from None
    log.info("worker %s: %d links checked in %d batches, %d rounds closed%s", outcome.identity,
             outcome.checked, outcome.batches, outcome.rounds_closed,
             f"; ran {', '.join(outcome.stages)}" if outcome.stages else "")
    if outcome.network_down and until_idle:
        raise typer.Exit(int(ExitCode.UNVERIFIABLE))
