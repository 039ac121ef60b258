"""The order a run starts its URLs in: slowest known first, hosts interleaved.

A run ends when its last URL answers. A page that took 10 s last time and is queued last
adds its 10 s after everything else is done; started first, it overlaps the rest
(longest-processing-time-first scheduling). Pure functions: the checker owns the workers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping


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
