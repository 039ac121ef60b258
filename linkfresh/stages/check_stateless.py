"""The stateless check (`check --no-db`) and the pieces the recorded one shares with it.

Nothing here imports storage (sqlalchemy, sqlmodel): a stateless check loads only what it
uses. `stages.check` wires these to the database for `check`, `run` and `serve`.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import httpx

from linkfresh.clients import http_client
from linkfresh.collector.check.checker import Progress, check_links
from linkfresh.collector.check.local_files import LOCAL_KINDS, check_local_links
from linkfresh.collector.check.netdown import mark_unverifiable, network_down
from linkfresh.collector.types import CheckResult, Guide, Link, LinkKind, Validators
from linkfresh.context import AppContext, load_and_warn
from linkfresh.exitcodes import ExitCode, Fail
from linkfresh.reports.check_model import CheckReport, LinkReport

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def http_links(guides: list[Guide]) -> list[Link]:
    """Every link of the guides; exit 2 when none is an http or local link (never a silent
    pass)."""
    links = [link for guide in guides for link in guide.links]
    if not any(link.kind is LinkKind.HTTP or link.kind in LOCAL_KINDS for link in links):
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


def local_checker(
    app: AppContext, parsed: Sequence[Guide], paths: Sequence[Path], clock: Clock
) -> Callable[[list[Link]], dict[str, CheckResult]]:
    """Relative links and #anchors of these guides, judged offline against their files."""
    settings = app.settings.check
    files = {guide.path: path for guide, path in zip(parsed, paths, strict=True)}
    exclude = [re.compile(pattern) for pattern in settings.exclude]
    return partial(check_local_links, guide_files=files, now=clock,
                   max_bytes=settings.max_guide_bytes, exclude=exclude)


async def check_until_stopped(
    links: list[Link], client: httpx.AsyncClient | None, app: AppContext,
    validators_by_url: dict[str, Validators], progress: Progress | None,
    stop: threading.Event | None, clock: Clock, expected_seconds: dict[str, float] | None = None,
    local: Callable[[list[Link]], dict[str, CheckResult]] | None = None,
    tick: Callable[[], None] | None = None,
) -> tuple[list[CheckResult], bool]:
    """Run the check; if `stop` is set, cancel it (results so far were already recorded).

    `expected_seconds` (how long each URL took last time) starts the slowest links first;
    `local` (see `local_checker`) judges relative links and #anchors. `tick` is called about
    every 0.1 s while the check runs (the recorder writes what waited too long).
    """
    settings = app.settings.check
    async with client or http_client(settings) as http:
        task = asyncio.ensure_future(
            check_links(links, http, settings, validators=validators_by_url,
                        expected_seconds=expected_seconds, progress=progress, now=clock,
                        local=local)
        )
        while (stop is not None or tick is not None) and not task.done():
            if stop is not None and stop.is_set():
                task.cancel()
                break
            await asyncio.wait({task}, timeout=0.1)
            if tick is not None:
                tick()
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
    local = local_checker(app, parsed, app.guide_paths(guides), clock)
    results, _ = asyncio.run(check_until_stopped(links, client, app, {}, progress, None, clock,
                                                 local=local))
    return build_report([guide.path for guide in parsed], links, results, started, clock())
