"""`linkfresh check`: check every link of the guide(s) now, report, and exit as CI expects.

`run_check` is the reusable core (for `linkfresh run`); `check` is the command around it.
"""

from __future__ import annotations

import asyncio
import sys
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import httpx
import typer

from collector.checker import Progress, check_links
from collector.netdown import UNREACHABLE, mark_unverifiable, network_down
from collector.types import CheckResult, Link, LinkKind, Validators
from linkfresh.clients import http_client
from linkfresh.cmd_guide import GuidesArgument, warn
from linkfresh.context import AppContext, write_atomically
from linkfresh.exitcodes import ExitCode, Fail
from reports.check_formats import (
    fails,
    render_check_github,
    render_check_junit,
    render_check_markdown,
)
from reports.check_model import CheckReport, LinkReport
from reports.check_report import render_check_json, render_check_text


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


def build_report(
    guides: Sequence[str], links: Sequence[Link], results: Sequence[CheckResult],
    started: datetime, finished: datetime, *, known_good_hosts: Collection[str] = (),
) -> CheckReport:
    """Join results with their occurrences; when the network is down, mark nothing broken."""
    down = network_down(results, known_good_hosts)
    if down:
        results = mark_unverifiable(results)
    occurrences: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        occurrences[link.url].append(link)
    items = tuple(LinkReport(result, tuple(occurrences[result.url])) for result in results)
    return CheckReport(tuple(guides), started, finished, items, network_down=down)


def run_check(
    app: AppContext,
    guides: list[Path] | None = None,
    *,
    client: httpx.AsyncClient | None = None,
    validators: dict[str, Validators] | None = None,
    known_good_hosts: Collection[str] = (),
    progress: Progress | None = None,
) -> CheckReport:
    """Read the guides, check every link, and return the report (no output, no exit).

    Raises Fail (exit 2) when the guides hold no http link at all: a silent pass would hide
    a wrong path or a broken parser.
    """
    parsed = app.load_guides(guides)
    for guide in parsed:
        for message in guide.warnings:
            warn(message)
    links = [link for guide in parsed for link in guide.links]
    names = [guide.path for guide in parsed]
    if not any(link.kind is LinkKind.HTTP for link in links):
        raise Fail(f"no links found in {', '.join(names)}", ExitCode.USAGE)
    settings = app.settings.check
    started = datetime.now(UTC)

    async def go() -> list[CheckResult]:
        async with client or http_client(settings) as http:
            return await check_links(links, http, settings, validators=validators,
                                     progress=progress)

    results = asyncio.run(go())
    return build_report(names, links, results, started, datetime.now(UTC),
                        known_good_hosts=known_good_hosts)


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
        bool, typer.Option("--no-db", help="Stateless: read and record no history.")
    ] = False,
) -> None:
    """Check every link now; exit 0 ok, 1 dead links, 2 bad input, 3 network down."""
    app: AppContext = ctx.obj
    kinds = list(fail_on) if fail_on else [FailOn(k) for k in app.settings.check.fail_on]
    report = _with_progress(app, guides)
    color = output is None and sys.stdout.isatty()
    text = render_check(report, output_format, [str(kind) for kind in kinds], color=color)
    if output is not None:
        write_atomically(output, text.encode("utf-8"))
    else:
        sys.stdout.write(text)
    code = exit_code(report, kinds)
    if code is ExitCode.UNVERIFIABLE:
        raise Fail(UNREACHABLE, ExitCode.UNVERIFIABLE)
    if code is not ExitCode.OK:
        raise typer.Exit(int(code))


def _with_progress(app: AppContext, guides: list[Path] | None) -> CheckReport:
    """A rich progress bar on stderr when it is a terminal; silence otherwise (CI logs)."""
    if not sys.stderr.isatty():
        return run_check(app, guides)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress("checking", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("links", total=None)
        return run_check(
            app, guides,
            progress=lambda _result, done, total: bar.update(task, completed=done, total=total),
        )
