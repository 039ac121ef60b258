"""The order a run starts its URLs in: slowest known first, hosts interleaved, and the slow
ones held to their share of the connections.

A run ends when its last URL answers. A page that took 10 s last time and is queued last
adds its 10 s after everything else is done; started first, it overlaps the rest
(longest-processing-time-first scheduling). But a hundred slow pages started at once would
take every connection and leave the quick ones waiting: so the slow ones get the share of
the connections their known work needs (`slow_share`), and both kinds finish together.
Pure functions: the checker owns the workers.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping

# A URL that took this long last time is "slow": far above any page's network latency.
SLOW_SECONDS = 1.0


def host_queues(
    urls_by_host: Mapping[str, Iterable[str]], expected: Mapping[str, float]
) -> dict[str, deque[str]]:
    """Each host's URLs, slowest known first, hosts with the slowest known URL first.

    `expected` is seconds per URL from an earlier run; unknown URLs count as 0 and keep
    their order (Python's sort is stable), so with no history the guide order stands.
    """
    queues = {
        host: sorted(urls, key=lambda url: -expected.get(url, 0.0))
        for host, urls in urls_by_host.items()
    }
    ranked = sorted(queues, key=lambda host: -max(
        (expected.get(url, 0.0) for url in queues[host]), default=0.0))
    return {host: deque(queues[host]) for host in ranked}


def worker_starts(queue_lengths: Mapping[str, int], per_host: int) -> Iterator[str]:
    """The host of each worker to start, in order: one per host per round, up to `per_host`.

    Round-robin start means the first global slots go to every host's first (slowest) URL
    rather than to all the workers of the first few hosts.
    """
    for round_ in range(per_host):
        for host, length in queue_lengths.items():
            if round_ < length:
                yield host


def slow_share(expected: Mapping[str, float], urls: Iterable[str], concurrency: int) -> int:
    """How many of `concurrency` connections the slow URLs may hold at once: their share of
    the run's known work (seconds last time), rounded up; `concurrency` when none is slow."""
    slow = total = 0.0
    for url in urls:
        seconds = expected.get(url, 0.0)
        total += seconds
        if seconds >= SLOW_SECONDS:
            slow += seconds
    if slow == 0.0:
        return concurrency
    # At least half: a quick page's time last time includes its wait for a busy event loop,
    # so the quick ones' share of the work is overstated, and a share too small for the
    # slow ones would leave them for the end, the very tail this ordering is there to avoid.
    return max(concurrency // 2, 1, min(concurrency, math.ceil(concurrency * slow / total)))


def take_next(queue: deque[str], is_slow: Callable[[str], bool], slow_full: bool) -> str:
    """The URL a host's worker starts next: the head of its queue, or, while the slow URLs
    hold their whole share (`slow_full`), the first quick one behind them. A host with only
    slow URLs left starts one anyway: waiting would not make it any quicker."""
    if slow_full and is_slow(queue[0]):
        for index, url in enumerate(queue):
            if not is_slow(url):
                del queue[index]
                return url
    return queue.popleft()
