"""`linkfresh check`: check the guide(s) now, report, and exit as CI expects.

With the database (the default) the check is recorded and incremental; `--no-db` is a
stateless check of every link. The work itself is `pipeline.check_stage` /
`checking.check_once`.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from linkfresh.collector.check.checker import Progress
from linkfresh.collector.check.netdown import UNREACHABLE
from linkfresh.commands.guide import GuidesArgument
from linkfresh.context import AppContext, check_writable, write_atomically
from linkfresh.exitcodes import ExitCode, Fail
from linkfresh.reports.check_formats import (
    fails,
    render_check_github,
    render_check_junit,
    render_check_markdown,
)
from linkfresh.reports.check_model import CheckReport
from linkfresh.reports.check_report import render_check_json, render_check_text
from linkfresh.stages.check_stateless import check_once


class CheckFormat(StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    JSON = "json"
    GITHUB = "github"
    JUNIT = "junit"


class FailOn(StrEnum):
    BROKEN = "broken"  # broken, error and timeout: what counts against a link
    UNVERIFIED = "unverified"
    REDIRECT = "redirect"


def exit_code(report: CheckReport, fail_on: Collection[FailOn | str]) -> ExitCode:
    """3 when the network was down (whatever else), 1 when anything fails, else 0."""
    if report.network_down:
        return ExitCode.UNVERIFIABLE
    return ExitCode.DEAD_LINKS if fails(report, fail_on) else ExitCode.OK


def render_check(report: CheckReport, output_format: CheckFormat, fail_on: Collection[str],
                 *, color: bool = False) -> str:
    """The report in the chosen format (pure)."""
    match output_format:
        case CheckFormat.TEXT:
            return render_check_text(report, color=color)
        case CheckFormat.MARKDOWN:
            return render_check_markdown(report, fail_on)
        case CheckFormat.JSON:
            return render_check_json(report)
        case CheckFormat.GITHUB:
            return render_check_github(report, fail_on)
        case CheckFormat.JUNIT:
            return render_check_junit(report, fail_on)


def check(
    ctx: typer.Context,
    guides: GuidesArgument = None,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="Output format.")
    ] = CheckFormat.TEXT,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report here, not stdout.")
    ] = None,
    fail_on: Annotated[
        list[FailOn] | None,
        typer.Option("--fail-on", help="What makes the exit code 1 (repeatable). "
                     "Default: the check.fail_on setting (broken)."),
    ] = None,
    no_db: Annotated[
        bool, typer.Option("--no-db", help="Stateless: check every link, record nothing.")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Check every link, even those checked ok recently.")
    ] = False,
) -> None:
    """Check every link now; exit 0 ok, 1 dead links, 2 bad input, 3 network down."""
    app: AppContext = ctx.obj
    kinds = list(fail_on) if fail_on else [FailOn(k) for k in app.settings.check.fail_on]
    if output is not None:
        check_writable(output, "--output")  # before the check: its report must not be lost
    report = _checked(app, guides, no_db=no_db, full=full)
    color = output is None and sys.stdout.isatty()
    text = render_check(report, output_format, [str(kind) for kind in kinds], color=color)
    if output is not None:
        try:
            write_atomically(output, text.encode("utf-8"), "--output")
        except Fail:
            sys.stdout.write(text)  # the finished report is not lost: stdout has it instead
            raise
    else:
        sys.stdout.write(text)
    code = exit_code(report, kinds)
    if code is ExitCode.UNVERIFIABLE:
        raise Fail(UNREACHABLE, ExitCode.UNVERIFIABLE)
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))


def _checked(app: AppContext, guides: list[Path] | None, *, no_db: bool, full: bool) -> CheckReport:
    with progress_bar("checking") as progress:
        if no_db:
            return check_once(app, guides, progress=progress)
        # Imported here: storage (sqlalchemy, sqlmodel) costs ~0.4 s that --no-db never needs.
        from linkfresh.stages.check import check_stage
        from linkfresh.store import locked, opened

        with opened(app) as engine, locked(engine, "check"):
            return check_stage(app, engine, guides=guides, full=full, progress=progress).report


@contextmanager
def progress_bar(label: str) -> Iterator[Progress | None]:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise (CI logs)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(label, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
             console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("links", total=None)
        yield lambda _result, done, total: bar.update(task, completed=done, total=total)
