"""The check stage wired to storage: sync the guides, check what is due, record as it goes.

The caller holds the run lock and passes the engine and the clock; this module decides
nothing about output or exit codes.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

import httpx
from sqlalchemy import Engine

from linkfresh.collector.check.checker import Progress
from linkfresh.collector.check.drift import Fingerprint, with_drift
from linkfresh.collector.guide.unwrap import host_of
from linkfresh.collector.types import CheckResult, Guide, Link, LinkKind
from linkfresh.context import AppContext, load_and_warn
from linkfresh.reports.check_model import CheckReport
from linkfresh.stages.check_stateless import (
    Clock,
    build_report,
    check_once,
    check_until_stopped,
    http_links,
    local_checker,
    utcnow,
)
from linkfresh.stages.recording import OFFLOAD_FROM, GatedRecorder, open_writer
from linkfresh.storage.guide_links import answered_hosts, latest_results, sync_guide
from linkfresh.storage.history import check_history
from linkfresh.storage.runs import RunOutcome, mark_interrupted, recorded_run, thin
from linkfresh.storage.state import StateRules
from linkfresh.storage.values import StoredPage

# The stateless pieces live in `stages.check_stateless` (no storage imports); re-exported here.
__all__ = ["CheckStage", "Clock", "build_report", "check_once", "check_stage", "http_links",
           "utcnow"]


@dataclass(frozen=True)
class CheckStage:
    """What a recorded check did: the report, the run, and how many links were fetched."""

    report: CheckReport
    run_id: int
    fetched: int
    reused: int
    stopped: bool


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
    parsed: Sequence[Guide] | Callable[[], Sequence[Guide]] | None = None,
    offload_from: int = OFFLOAD_FROM,
) -> CheckStage:
    """Check the links that are due (all with `full`) and record every result as it comes.

    Links not due are reported with their latest stored result. When the network is down
    nothing is recorded and the run ends as "network-down". From `offload_from` due links
    on, a child process writes the results (`open_writer`).

    `parsed` are the guides already read, or a function that gives them (`parse_ahead`):
    the history is read before it is called, while a child may still be parsing.
    """
    settings = app.settings.check
    now = clock()
    recheck = timedelta(hours=settings.recheck_after_hours)
    mark_interrupted(engine, now)
    names, load = _guides_to_read(app, guides, parsed)
    # As last synced; read again below if the guides' links have changed since.
    history = check_history(engine, now, recheck, full=full, guides=names)
    answered = answered_hosts(engine)
    read = load()
    links = http_links(read)
    synced = [sync_guide(engine, guide, now) for guide in read]
    if any(summary.diffed for summary in synced):
        history = check_history(engine, now, recheck, full=full, guides=names)
    due = history.due
    to_check = [link for link in links
                if link.url in due or link.kind is not LinkKind.HTTP or link.disabled]
    tried_hosts = {host_of(url) for url in due}
    with (recorded_run(engine, "check", now, clock) as run,
          open_writer(engine, run.id, StateRules.from_settings(settings), len(due),
                      offload_from=offload_from) as writer):
        recorder = GatedRecorder(writer, answered & tried_hosts)

        judged = drift_judge(history.references, links)

        seen: dict[str, tuple[CheckResult, CheckResult]] = {}  # url: (as checked, judged)

        def judged_once(result: CheckResult) -> CheckResult:
            known = seen.get(result.url)
            if known is not None and known[0] is result:
                return known[1]
            after = judged(result)
            seen[result.url] = (result, after)
            return after

        def on_result(result: CheckResult, done: int, total: int) -> None:
            result = judged_once(result)
            recorder.add(result)
            if progress is not None:
                progress(result, done, total)

        try:
            results, stopped = asyncio.run(check_until_stopped(
                to_check, client, app, history.validators, on_result, stop, clock,
                expected_seconds=history.expected_seconds, tick=recorder.flush_stale,
                local=local_checker(app, read, app.guide_paths(guides), clock)))
        except BaseException:
            # What the check confirmed before it failed is true evidence: keep it.
            recorder.finish(network_down=not recorder.open)
            run.counts = writer.counts()
            raise
        results = [judged_once(result) for result in results]
        for result in results:  # skipped links never pass through the progress callback
            recorder.add(result)
        reused = latest_results(engine, {link.url for link in links} - recorder.recorded)
        report = build_report(names, links, [*results, *reused.values()], now, clock(),
                              known_good_hosts=recorder.yardstick)
        recorder.finish(report.network_down)
        run.counts = writer.counts()
        if stopped:
            run.outcome = RunOutcome.INTERRUPTED
        elif report.network_down:
            run.outcome = RunOutcome.NETWORK_DOWN
        else:
            run.outcome = RunOutcome.OK
    if run.outcome == RunOutcome.OK:
        thin(engine, now, timedelta(days=settings.retention_days))
    return CheckStage(report, run.id, len(results), len(reused), stopped)


def _guides_to_read(
    app: AppContext, guides: list[Path] | None,
    parsed: Sequence[Guide] | Callable[[], Sequence[Guide]] | None,
) -> tuple[list[str], Callable[[], Sequence[Guide]]]:
    """The guides' names, known before they are read, and a function giving them read."""
    if isinstance(parsed, Sequence):
        given = list(parsed)
        return [guide.path for guide in given], lambda: given
    return app.guide_names(guides), parsed or partial(load_and_warn, app, guides)


def drift_judge(stored: Mapping[str, StoredPage],
                links: Sequence[Link]) -> Callable[[CheckResult], CheckResult]:
    """A function making a result `changed` when its page drifted from its stored reference
    (pure: the references come with the check's history)."""
    texts: dict[str, list[str]] = defaultdict(list)
    for link in links:
        texts[link.url].append(link.text)

    def judged(result: CheckResult) -> CheckResult:
        page = stored.get(result.url)
        if page is None:
            return result
        reference = Fingerprint(page.title, page.heading, page.text_length, page.wall)
        return with_drift(result, reference, texts.get(result.url, ()), stored=page.drift)

    return judged
