"""Async link checking: dedupe, skip, schedule, retry, and judge; outcomes are `CheckResult`s.

The only concurrent stage of linkfresh. The client, clocks and sleep are parameters.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from linkfresh.collector.check.drift import wall_sign
from linkfresh.collector.check.fetch import URL_ERRORS, Answer, fetch, host_key, invalid_url
from linkfresh.collector.check.heap import tuned_for_fetching
from linkfresh.collector.check.host_limits import HostLimits, Sleep
from linkfresh.collector.check.order import (
    SLOW_SECONDS,
    host_queues,
    slow_share,
    take_next,
    worker_starts,
)
from linkfresh.collector.check.parking import is_suspect
from linkfresh.collector.check.stalls import StalledHosts, UnreachableHosts
from linkfresh.collector.check.verdict import judge, needs_probe
from linkfresh.collector.guide.unwrap import split_fragment
from linkfresh.collector.types import CheckResult, Link, LinkKind, LinkState, Validators
from linkfresh.collector.web.client import fetchable
from linkfresh.collector.web.retry import Failure, Retry, parse_retry_after, retry_plan
from linkfresh.config.settings import CheckSettings

# Bytes of an HTML page read when only its title matters (soft 404, bot wall).
TITLE_BYTES = 256 * 1024
# Bytes of the random-path probe's page read: enough to compare it with a parking lander.
PROBE_BYTES = 64 * 1024
# Paths that name a file: HEAD can decide those (no title, no anchors to read).
FILE_SUFFIXES = (
    ".pdf", ".zip", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".7z", ".whl", ".epub", ".mp4",
    ".mp3", ".webm", ".mov", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".csv",
    ".parquet", ".safetensors", ".bin", ".pt", ".pptx", ".docx", ".xlsx", ".dmg", ".exe",
)

Progress = Callable[[CheckResult, int, int], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def skip_reason(url: str, exclude: Sequence[re.Pattern[str]]) -> str | None:
    """Why `url` is not fetched at all (not http(s), or excluded by config), else None."""
    reason = fetchable(url)
    if reason:
        return reason
    for pattern in exclude:
        if pattern.search(url):
            return f"excluded by pattern {pattern.pattern!r}"
    return None


class Checker:
    """One run's shared state: host limits, probe cache, clocks. Use `check_urls`."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: CheckSettings,
        *,
        now: Callable[[], datetime] = _utcnow,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.client, self.settings = client, settings
        self.now, self.clock, self.sleep = now, clock, sleep
        self.rng = rng or random.Random()
        self.limits = HostLimits(settings.per_host, settings.concurrency, settings.min_interval,
                                 clock=clock, sleep=sleep)
        self._probes: dict[str, asyncio.Task[Answer]] = {}
        self.stalled = StalledHosts(settings.connect_timeout, settings.read_timeout,
                                    settings.stalled_host_timeout, settings.link_deadline)
        self.unreachable = UnreachableHosts()

    def _use_head(self, url: str) -> bool:
        mode = self.settings.head_first
        return mode == "always" or (
            mode == "files" and urlsplit(url).path.lower().endswith(FILE_SUFFIXES)
        )

    async def _attempts(
        self, url: str, method: str, body_bytes: int, first: Mapping[str, str],
        anchors: bool = False,
    ) -> tuple[Answer, str | None, int]:
        """Try until the retry predicate says stop: (last answer, rate-limit note, requests)."""
        settings, requests = self.settings, 0
        attempt = 0
        while True:
            answer = await fetch(self.client, self.limits, url, method=method,
                                 body_bytes=body_bytes, max_redirects=settings.max_redirects,
                                 first_headers=first, anchors=anchors,
                                 body_deadline=settings.body_deadline,
                                 timeout=self.stalled.timeout_for(host_key(url)))
            requests += answer.requests
            host = host_key(answer.final_url)
            self.stalled.saw(host, answer.failure)
            self.unreachable.saw(host, answer.failure, attempt)
            if self.unreachable.known_down(host, answer.failure):
                return answer, None, requests  # the pause would only bring the same answer
            if answer.status in settings.accept:  # accepted (`--accept 429`): an answer, done
                return answer, None, requests
            retry_after = parse_retry_after(answer.headers.get("retry-after"), self.now())
            plan = retry_plan(answer.status, answer.failure, attempt, retries=settings.retries,
                              backoff=settings.backoff, dns_pause=settings.dns_retry_pause,
                              retry_after=retry_after, rng=self.rng,
                              timeout_retries=settings.timeout_retries)
            if plan.kind is Retry.NO:
                return answer, None, requests
            if plan.kind is Retry.AFTER:
                if plan.delay > settings.retry_after_cap:
                    note = (f"HTTP {answer.status}: Retry-After {plan.delay:.0f} s exceeds the "
                            f"cap of {settings.retry_after_cap:.0f} s; not proven dead")
                    return answer, note, requests
                # Remembered for the host: its other URLs wait too instead of hammering it.
                self.limits.defer(host_key(answer.final_url), plan.delay)
            else:
                await self.sleep(plan.delay)
            attempt += 1

    async def _probe(self, answer: Answer) -> Answer:
        """The host's answer to a random path that cannot exist, fetched once per host."""
        parts = urlsplit(answer.url)
        key = host_key(answer.url)
        if key not in self._probes:
            path = f"/linkfresh-probe-{self.rng.getrandbits(64):016x}"
            probe_url = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
            self._probes[key] = asyncio.ensure_future(
                fetch(self.client, self.limits, probe_url, body_bytes=PROBE_BYTES,
                      max_redirects=self.settings.max_redirects, anchors=False)
            )
        return await asyncio.shield(self._probes[key])

    async def _check(self, url: str, fragments: set[str], first: Mapping[str, str]) -> Answer:
        need_page = any(fragments) or not self._use_head(url)
        requests = 0
        note: str | None = None
        if self._use_head(url) and not any(fragments):
            head, note, requests = await self._attempts(url, "HEAD", 0, first)
            if note or _head_decides(head, self.settings.accept):
                return _with(head, requests, note)
            need_page = True
        wanted = any(fragments)
        body = self.settings.max_body_bytes if wanted else TITLE_BYTES
        answer, note, more = await self._attempts(url, "GET", body if need_page else 0, first,
                                                  anchors=wanted)
        return _with(answer, requests + more, note)

    async def check_request(
        self, url: str, fragments: set[str], validators: Validators | None, deadline: float
    ) -> list[CheckResult]:
        """Every result for one fetched URL: one per fragment ("" for the bare URL)."""
        started = self.clock()
        checked_at = self.now()
        first = validators.headers() if validators else {}
        try:
            async with asyncio.timeout(max(0.0, deadline)):
                answer = await self._check(url, fragments, first)
                probe = None
                if self.settings.soft_404_probe and (needs_probe(answer) or is_suspect(answer)):
                    probe = await self._probe(answer)
        except TimeoutError:
            answer = Answer(url, "GET", url, failure=Failure.DEADLINE,
                            error=f"no verdict within the {deadline:.1f} s deadline")
            probe = None
        elapsed = int((self.clock() - started) * 1000)
        results = []
        for fragment in sorted(fragments):
            verdict = judge(answer, fragment=fragment, accept=self.settings.accept, probe=probe,
                            rate_limited=answer.rate_limited)
            results.append(CheckResult(
                url=f"{url}#{fragment}" if fragment else url, state=verdict.state,
                checked_at=checked_at, status=answer.status, final_url=answer.final_url,
                chain=answer.chain, error=answer.error, elapsed_ms=elapsed,
                error_class=str(answer.failure) if answer.failure else None,
                etag=answer.headers.get("etag"),
                last_modified=answer.headers.get("last-modified"),
                title=answer.page.title if answer.page else None,
                detail=verdict.detail, requests=answer.requests,
                **_fingerprint(answer),
            ))
        return results


def _fingerprint(answer: Answer) -> dict[str, Any]:
    """The page's heading, text length and wall sign, for content drift (see `drift.py`)."""
    page = answer.page
    if page is None or answer.failure is not None:
        return {}
    features = page.features
    return {"heading": page.heading,
            "text_length": features.text_length if features else None,
            "wall": wall_sign(answer.url, answer.final_url, page)}


def _with(answer: Answer, requests: int, note: str | None) -> Answer:
    """The answer counting every request of every attempt, carrying the rate-limit note."""
    return replace(answer, requests=requests, rate_limited=note)


def _head_decides(head: Answer, accept: Iterable[int]) -> bool:
    """A HEAD is trusted only for a plain success on a non-HTML resource."""
    if head.failure is not None or head.status is None:
        return head.failure in (Failure.NO_HOST, Failure.BLOCKED, Failure.TLS)
    content_type = head.headers.get("content-type", "")
    ok = 200 <= head.status < 300 or head.status in accept or head.status == 304
    return ok and bool(content_type) and "html" not in content_type.lower()


async def check_urls(
    urls: Iterable[str],
    client: httpx.AsyncClient,
    settings: CheckSettings,
    *,
    validators: Mapping[str, Validators] | None = None,
    expected_seconds: Mapping[str, float] | None = None,
    progress: Progress | None = None,
    now: Callable[[], datetime] = _utcnow,
    clock: Callable[[], float] = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
) -> list[CheckResult]:
    """Check each distinct URL once; URLs differing only in #fragment share one fetch.

    Returns one result per distinct URL, in first-seen order. Non-http and excluded URLs
    are `skipped` and never fetched. `validators` are keyed by URL without fragment.
    `expected_seconds` (how long URLs took last time) starts the slowest first.
    Each host is worked by at most `per_host` workers, so a link's deadline starts when
    its check starts, not while it queues behind its host's other links.
    """
    checker = Checker(client, settings, now=now, clock=clock, sleep=sleep, rng=rng)
    ordered = list(dict.fromkeys(urls))
    total = len(ordered)
    exclude = [re.compile(pattern) for pattern in settings.exclude]
    found: dict[str, CheckResult] = {}

    def record(result: CheckResult) -> None:
        found[result.url] = result
        if progress is not None:
            progress(result, len(found), total)

    groups: dict[str, set[str]] = {}
    for url in ordered:
        problem = invalid_url(url) if url[:8].lower().startswith(("http://", "https://")) else None
        if problem:
            record(CheckResult(url, LinkState.BROKEN, now(), error_class=str(Failure.BAD_URL),
                               detail=problem))
            continue
        reason = skip_reason(url, exclude)
        if reason:
            record(CheckResult(url, LinkState.SKIPPED, now(), detail=reason))
            continue
        request_url, fragment = split_fragment(url)
        groups.setdefault(request_url, set()).add(fragment)
    by_host: dict[str, list[str]] = {}
    for request_url in groups:
        by_host.setdefault(host_key(request_url), []).append(request_url)
    expected = _by_request_url(expected_seconds or {})
    queues = host_queues(by_host, expected)
    run_end = clock() + settings.run_deadline
    slow_cap, slow_running = slow_share(expected, groups, settings.concurrency), 0

    def is_slow(url: str) -> bool:
        return expected.get(url, 0.0) >= SLOW_SECONDS

    async def worker(queue: deque[str]) -> None:
        nonlocal slow_running
        while queue:
            request_url = take_next(queue, is_slow, slow_running >= slow_cap)
            slow = is_slow(request_url)
            slow_running += slow
            try:
                await check_one(request_url)
            finally:
                slow_running -= slow

    async def check_one(request_url: str) -> None:
        remaining = run_end - clock()
        if remaining <= 0:
            for fragment in sorted(groups[request_url]):
                url = f"{request_url}#{fragment}" if fragment else request_url
                record(CheckResult(url, LinkState.UNVERIFIED, now(), error_class="deadline",
                                   detail="not checked: the run deadline was reached"))
            return
        known = (validators or {}).get(request_url)
        deadline = min(settings.link_deadline, remaining)
        try:
            results = await checker.check_request(request_url, groups[request_url], known,
                                                  deadline)
        except Exception as error:  # one link's failure is its verdict, not the run's
            results = failed(request_url, groups[request_url], error, now())
        for result in results:
            record(result)

    lengths = {host: len(queue) for host, queue in queues.items()}
    with tuned_for_fetching():
        async with asyncio.TaskGroup() as tasks:
            for host in worker_starts(lengths, settings.per_host):
                tasks.create_task(worker(queues[host]))
    return [found[url] for url in ordered]


def failed(request_url: str, fragments: set[str], error: Exception, at: datetime
           ) -> list[CheckResult]:
    """The verdicts of a URL whose check raised: broken for a URL no request can be made for
    (a hop's `Location` included), an error naming the exception for anything else."""
    if isinstance(error, URL_ERRORS):
        state, failure, detail = LinkState.BROKEN, Failure.BAD_URL, f"invalid URL: {error}"
    else:
        state, failure = LinkState.ERROR, None
        detail = f"unexpected error: {type(error).__name__}: {error}"
    return [CheckResult(f"{request_url}#{fragment}" if fragment else request_url, state, at,
                        error_class=str(failure) if failure else "internal",
                        detail=detail[:300]) for fragment in sorted(fragments)]


def _by_request_url(seconds: Mapping[str, float]) -> dict[str, float]:
    """Timings keyed by URL as linked (#fragment included) folded onto the fetched URL."""
    folded: dict[str, float] = {}
    for url, value in seconds.items():
        request_url = split_fragment(url)[0]
        folded[request_url] = max(value, folded.get(request_url, 0.0))
    return folded


async def check_links(
    links: Iterable[Link],
    client: httpx.AsyncClient,
    settings: CheckSettings,
    *,
    validators: Mapping[str, Validators] | None = None,
    expected_seconds: Mapping[str, float] | None = None,
    progress: Progress | None = None,
    now: Callable[[], datetime] = _utcnow,
    clock: Callable[[], float] = time.monotonic,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
    local: Callable[[list[Link]], Mapping[str, CheckResult]] | None = None,
) -> list[CheckResult]:
    """Check the distinct URLs of `links`, one result per distinct `Link.url`, in order.

    Options are those of `check_urls`. A URL is skipped when every occurrence is disabled
    inline or when it is not an http link (mailto, relative, ...); those are never fetched.
    `local` judges relative links and #anchors offline (`local_files.check_local_links`).
    """
    skipped: dict[str, str] = {}
    wanted: dict[str, None] = {}
    every = list(links)
    offline = dict(local(every)) if local is not None else {}
    for link in every:
        if link.url in offline:
            continue
        if link.kind is not LinkKind.HTTP:
            skipped.setdefault(link.url, f"not fetched: {link.kind} link")
        elif not link.disabled:
            wanted[link.url] = None
    for link in every:
        if link.disabled and link.url not in wanted:
            skipped.setdefault(link.url, "disabled inline in the guide")
    checked = await check_urls(list(wanted), client, settings, validators=validators,
                               expected_seconds=expected_seconds, progress=progress, now=now,
                               clock=clock, sleep=sleep, rng=rng)
    at = now()
    results = {r.url: r for r in checked} | offline
    for url, reason in skipped.items():
        results.setdefault(url, CheckResult(url, LinkState.SKIPPED, at, detail=reason))
    order = dict.fromkeys(link.url for link in every)
    return [results[url] for url in order]
