"""`linkfresh collect`: the collect stage with per-source lines and a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import typer

from linkfresh.collector.news.outcomes import SourceOutcome
from linkfresh.commands.options import NoProgress, Quiet
from linkfresh.context import AppContext
from linkfresh.exitcodes import ExitCode, Fail
from linkfresh.reports.wording import plural
from linkfresh.stages.collect import ARXIV_SOURCE, OnOutcome, collect_stage, plan_collect
from linkfresh.store import locked, opened
from linkfresh.terminal import progress_enabled


def _progress_reporter(total: int, app: AppContext) -> tuple[OnOutcome, Callable[[], None]]:
    """One summary line per source on stdout (with `-q` only the failed ones); a rich bar on
    stderr when it is a terminal, unless `-q` or `--no-progress`."""
    def line(outcome: SourceOutcome) -> None:
        if not app.quiet or not outcome.ok:
            print(outcome.summary(), flush=True)

    if not progress_enabled(sys.stderr, progress=app.progress, quiet=app.quiet):
        return line, (lambda: None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    # Lines stay on stdout; rich only draws them above the bar when stdout is the terminal too.
    bar = Progress("collecting", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), transient=True,
                   redirect_stdout=sys.stdout.isatty())
    task = bar.add_task("sources", total=total)
    bar.start()

    def report(outcome: SourceOutcome) -> None:
        line(outcome)
        bar.advance(task)

    return report, bar.stop


def collect(
    ctx: typer.Context,
    topic: Annotated[list[str] | None, typer.Option(
        "--topic", "-t", metavar="NAME", help="Only this topic's arXiv pull (repeatable).")] = None,
    source: Annotated[list[str] | None, typer.Option(
        "--source", "-s", metavar="NAME",
        help=f"Only this source: {ARXIV_SOURCE!r} or a feed name (repeatable).")
    ] = None,
    quiet: Quiet = 0,
    no_progress: NoProgress = False,
) -> None:
    """Pull new arXiv papers and blog posts; exit 0 ok, 3 network down, 5 some source failed."""
    app: AppContext = ctx.obj
    app.quiet += quiet
    app.progress = app.progress and not no_progress
    plan = plan_collect(app, topic or [], source or [])  # usage errors before any database work
    now = datetime.now(UTC)
    with opened(app) as engine, locked(engine, "collect"):
        report, done = _progress_reporter(plan.sources, app)
        try:
            result = collect_stage(app, engine, now, topics=topic, sources=source,
                                   on_outcome=report)
        finally:
            done()
    failed = sum(1 for o in result.outcomes if not o.ok)
    if not app.quiet:
        print(f"{plural(len(result.new_papers), 'new paper')}, "
              f"{plural(len(result.new_posts), 'new post')} from "
              f"{plural(len(result.outcomes), 'source')} ({failed} failed)")
    if result.network_down:
        raise Fail("no source could be reached: is the network down?", ExitCode.UNVERIFIABLE)
    if result.exit_code is not ExitCode.OK:
        raise typer.Exit(int(result.exit_code))
