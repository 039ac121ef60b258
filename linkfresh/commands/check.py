"""`linkfresh check`: check the guide(s) now, report, and exit as CI expects.

With the database (the default) the check is recorded and incremental; `--no-db` is a
stateless check of every link. The work itself is `stages.check.check_stage` /
`stages.check_stateless.check_once`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from linkfresh.collector.check.netdown import UNREACHABLE
from linkfresh.commands.guide import GuidesArgument
from linkfresh.commands.options import (
    Accept,
    Exclude,
    Json,
    MaxConcurrency,
    NoProgress,
    Quiet,
    Timeout,
    check_flags,
)
from linkfresh.context import AppContext, check_writable, warn, write_atomically
from linkfresh.exitcodes import ExitCode, Fail
from linkfresh.reports.check_formats import (
    fails,
    render_check_github,
    render_check_junit,
    render_check_markdown,
)
from linkfresh.reports.check_model import CheckReport
from linkfresh.stages.parse_ahead import parsed_ahead
from linkfresh.terminal import color_enabled, progress_enabled

if TYPE_CHECKING:
    from linkfresh.collector.check.checker import Progress


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
    CHANGED = "changed"  # content drift, from the history (not with --no-db)


def exit_code(report: CheckReport, fail_on: Collection[FailOn | str]) -> ExitCode:
    """1 when anything fails (with the network down, a local link checked on disk), else 3
    when the network was down, else 0."""
    if fails(report, fail_on):
        return ExitCode.DEAD_LINKS
    return ExitCode.UNVERIFIABLE if report.network_down else ExitCode.OK


def render_check(report: CheckReport, output_format: CheckFormat, fail_on: Collection[str],
                 *, color: bool = False, quiet: int = 0,
                 paths: Mapping[str, str] | None = None) -> str:
    """The report in the chosen format (pure). `paths` renames guides in annotations and
    JUnit `file` attributes (repository-relative, as CI needs); `quiet` trims the text."""
    from linkfresh.reports.check_report import render_check_json, render_check_text

    match output_format:
        case CheckFormat.TEXT:
            return "" if quiet > 1 else render_check_text(report, color=color, brief=bool(quiet))
        case CheckFormat.MARKDOWN:
            return render_check_markdown(report, fail_on)
        case CheckFormat.JSON:
            return render_check_json(report)
        case CheckFormat.GITHUB:
            return render_check_github(report, fail_on, paths=paths)
        case CheckFormat.JUNIT:
            return render_check_junit(report, fail_on, paths=paths)


def check(
    ctx: typer.Context,
    guides: GuidesArgument = None,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", "-f", metavar="[text|markdown|json|github|junit]",
                                  help="Output format.")
    ] = CheckFormat.TEXT,
    as_json: Json = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE",
                                  help="Write the report here, not stdout.")
    ] = None,
    fail_on: Annotated[
        list[FailOn] | None,
        typer.Option("--fail-on", metavar="[broken|unverified|redirect]",
                     help="What makes the exit code 1 (repeatable). "
                     "Default: the check.fail_on setting (broken)."),
    ] = None,
    no_db: Annotated[
        bool, typer.Option("--no-db", help="Stateless: check every link, record nothing.")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Check every link, even those checked ok recently.")
    ] = False,
    exclude: Exclude = None,
    accept: Accept = None,
    timeout: Timeout = None,
    max_concurrency: MaxConcurrency = None,
    quiet: Quiet = 0,
    no_progress: NoProgress = False,
) -> None:
    """Check every link now; exit 0 ok, 1 dead links, 2 bad input, 3 network down.

    A GUIDE of `-` is read from standard input. Under GitHub Actions the markdown report is
    also appended to the job summary ($GITHUB_STEP_SUMMARY).
    """
    app: AppContext = ctx.obj
    app.quiet += quiet
    app.progress = app.progress and not no_progress
    app.override_check(**check_flags(exclude=exclude, accept=accept, timeout=timeout,
                                     max_concurrency=max_concurrency))
    if as_json:
        output_format = CheckFormat.JSON
    kinds = list(fail_on) if fail_on else [FailOn(k) for k in app.settings.check.fail_on]
    if no_db and FailOn.CHANGED in kinds:
        print("linkfresh: warning: --no-db keeps no history, so no page counts as changed",
              file=sys.stderr)
    names = [str(kind) for kind in kinds]
    if output is not None:
        check_writable(output, "--output")  # before the check: its report must not be lost
    report = _checked(app, guides, no_db=no_db, full=full)
    color = output is None and color_enabled(sys.stdout)
    paths = None
    if output_format in (CheckFormat.GITHUB, CheckFormat.JUNIT):  # file= for CI reporters
        from linkfresh.github import annotation_paths, repository_root

        cwd = Path.cwd()
        paths = annotation_paths(report.guides, cwd, repository_root(cwd))
    text = render_check(report, output_format, names, color=color, quiet=app.quiet, paths=paths)
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        from linkfresh.github import append_step_summary

        try:
            append_step_summary(render_check_markdown(report, names))
        except OSError as error:
            warn(f"cannot append to the job summary: {error}", app)
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
    if report.network_down:  # dead local links: exit 1, but say why the web ones are unchecked
        warn(UNREACHABLE, app)
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))


def _checked(app: AppContext, guides: list[Path] | None, *, no_db: bool, full: bool) -> CheckReport:
    # The checker (httpx, asyncio) is imported once the command runs, and for a recorded
    # check after the guide's child is forked: that child then starts 0.1 s sooner.
    if no_db:
        from linkfresh.stages.check_stateless import check_once

        with progress_bar("checking", app) as progress:
            return check_once(app, guides, progress=progress)
    # A big guide is parsed in a child while the database loads (before the progress bar:
    # the child is forked from a process of one thread).
    with parsed_ahead(app, guides) as parsed, progress_bar("checking", app) as progress:
        # Imported here: storage (sqlalchemy, sqlmodel) costs ~0.4 s that --no-db never needs.
        from linkfresh.stages.check import check_stage
        from linkfresh.store import locked, opened

        with opened(app) as engine, locked(engine, "check"):
            return check_stage(app, engine, guides=guides, full=full, progress=progress,
                               parsed=parsed).report


@contextmanager
def progress_bar(label: str, app: AppContext) -> Iterator[Progress | None]:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise (CI logs), nor
    with `-q` or `--no-progress`."""
    if not progress_enabled(sys.stderr, progress=app.progress, quiet=app.quiet):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(label, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
             console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("links", total=None)
        yield lambda _result, done, total: bar.update(task, completed=done, total=total)
