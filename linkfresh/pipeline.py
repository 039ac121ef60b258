"""The check stage wired to storage: sync the guides, check what is due, record as it goes.

The caller holds the run lock and passes the engine and the clock; this module decides
nothing about output or exit codes.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine

from collector.checker import Progress, check_links
from collector.netdown import mark_unverifiable, network_down
from collector.types import CheckResult, Guide, Link, LinkKind, Validators
from linkfresh.clients import http_client
from linkfresh.cmd_guide import warn
from linkfresh.context import AppContext
from linkfresh.exitcodes import ExitCode, Fail
from linkfresh.recording import GatedRecorder
from reports.check_model import CheckReport, LinkReport
from storage.links import answered_hosts, due_urls, latest_results, sync_guide, validators
from storage.results import ResultWriter, RunOutcome, finish_run, mark_interrupted, start_run, thin
from storage.state import StateRules

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CheckStage:
    """What a recorded check did: the report, the run, and how many links were fetched."""

    report: CheckReport
    run_id: int
    fetched: int
    reused: int
    stopped: bool


def http_links(guides: list[Guide]) -> list[Link]:
    """Every link of the guides; exit 2 when none is an http link (never a silent pass)."""
    links = [link for guide in guides for link in guide.links]
    if not any(link.kind is LinkKind.HTTP for link in links):
        names = ", ".join(guide.path for guide in guides)
        raise Fail(f"no links found in {names}", ExitCode.USAGE)
    return links


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


def load_and_warn(app: AppContext, guides: list[Path] | None) -> list[Guide]:
    parsed = app.load_guides(guides)
    for guide in parsed:
        for message in guide.warnings:
            warn(message)
    return parsed


async def _check_until_stopped(
    links: list[Link], client: httpx.AsyncClient | None, app: AppContext,
    validators_by_url: dict[str, Validators], progress: Progress | None,
    stop: threading.Event | None, clock: Clock,
) -> tuple[list[CheckResult], bool]:
    """Run the check; if `stop` is set, cancel it (results so far were already recorded)."""
    settings = app.settings.check
    async with client or http_client(settings) as http:
        task = asyncio.ensure_future(
            check_links(links, http, settings, validators=validators_by_url, progress=progress,
                        now=clock)
        )
        while stop is not None and not task.done():
            if stop.is_set():
                task.cancel()
                break
            await asyncio.wait({task}, timeout=0.1)
        try:
            return await task, False
        except asyncio.CancelledError:
            return [], True


def check_once(
    app: AppContext,
    guides: list[Path] | None = None,
    *,
    client: httpx.AsyncClient | None = None,
    progress: Progress | None = None,
    clock: Clock = utcnow,
) -> CheckReport:
    """A stateless check of every link (`check --no-db`): nothing read or written."""
    parsed = load_and_warn(app, guides)
    links = http_links(parsed)
    started = clock()
    results, _ = asyncio.run(_check_until_stopped(links, client, app, {}, progress, None, clock))
    return build_report([guide.path for guide in parsed], links, results, started, clock())


def check_stage(
    app: AppContext,
    engine: Engine,
    *,
    guides: list[Path] | None = None,
    full: bool = False,
    clock: Clock = utcnow,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
    client: httpx.AsyncClient | None = None,
) -> CheckStage:
    """Check the links that are due (all with `full`) and record every result as it comes.

    Links not due are reported with their latest stored result. When the network is down
    nothing is recorded and the run ends as "network-down".
    """
    parsed = load_and_warn(app, guides)
    links = http_links(parsed)
    settings = app.settings.check
    now = clock()
    mark_interrupted(engine, now)
    for guide in parsed:
        sync_guide(engine, guide, now)
    names = [guide.path for guide in parsed]
    due = set(due_urls(engine, now, timedelta(hours=settings.recheck_after_hours), full=full,
                       guides=names))
    to_check = [link for link in links
                if link.url in due or link.kind is not LinkKind.HTTP or link.disabled]
    tried_hosts = {(urlsplit(url).hostname or "").lower() for url in due}
    run_id = start_run(engine, "check", now)
    writer = ResultWriter(engine, run_id, StateRules.from_settings(settings))
    recorder = GatedRecorder(writer, answered_hosts(engine) & tried_hosts)

    def on_result(result: CheckResult, done: int, total: int) -> None:
        recorder.add(result)
        if progress is not None:
            progress(result, done, total)

    outcome = RunOutcome.FAILED
    results: list[CheckResult] = []
    reused: dict[str, CheckResult] = {}
    try:
        results, stopped = asyncio.run(_check_until_stopped(
            to_check, client, app, validators(engine, due), on_result, stop, clock))
        for result in results:  # skipped links never pass through the progress callback
            recorder.add(result)
        reused = latest_results(engine, {link.url for link in links} - recorder.recorded)
        report = build_report(names, links, [*results, *reused.values()], now, clock(),
                              known_good_hosts=recorder.yardstick)
        recorder.finish(report.network_down)
        if stopped:
            outcome = RunOutcome.INTERRUPTED
        elif report.network_down:
            outcome = RunOutcome.NETWORK_DOWN
        else:
            outcome = RunOutcome.OK
    finally:
        if outcome == RunOutcome.FAILED:  # an exception: keep what was already confirmed
            recorder.finish(network_down=not recorder.open)
        finish_run(engine, run_id, clock(), outcome, writer.counts())
    if outcome == RunOutcome.OK:
        thin(engine, now, timedelta(days=settings.retention_days))
    return CheckStage(report, run_id, len(results), len(reused), stopped)
