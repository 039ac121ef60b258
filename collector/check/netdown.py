"""Telling "the network is down" from "these links are dead" (pure functions over results)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace

from linkfresh.collector.guide.unwrap import host_of
from linkfresh.collector.types import CheckResult, LinkState
from linkfresh.collector.web.retry import NETWORK_FAILURES

UNREACHABLE = "could not verify: network unreachable"
_NETWORK_CLASSES = frozenset(str(failure) for failure in NETWORK_FAILURES)


def is_network_failure(result: CheckResult) -> bool:
    """No answer at all: no such host, refused, or no TCP connection in time."""
    return result.error_class in _NETWORK_CLASSES


def unreachable_hosts(results: Iterable[CheckResult]) -> tuple[set[str], set[str]]:
    """(hosts tried, hosts where every result failed at the network level)."""
    by_host: dict[str, list[CheckResult]] = defaultdict(list)
    for result in results:
        # Local links (no host) were judged offline: they say nothing about the network.
        if result.state is not LinkState.SKIPPED and host_of(result.url):
            by_host[host_of(result.url)].append(result)
    failed = {
        host for host, found in by_host.items()
        if all(r.error_class in _NETWORK_CLASSES for r in found)
    }
    return set(by_host), failed


def network_down(
    results: Sequence[CheckResult], known_good_hosts: Collection[str] = ()
) -> bool:
    """True when every host tried failed at the network level (no DNS, refused, no TCP answer).

    With `known_good_hosts` (hosts that answered last run) it is enough that every one of
    those tried this run failed: a guide whose dead hosts outnumber its live ones then still
    reads as "network down" only if the live ones went silent too.
    """
    tried, failed = unreachable_hosts(results)
    if not tried:
        return False
    known = {host.lower() for host in known_good_hosts} & tried
    if known:
        return known <= failed
    return failed == tried


def mark_unverifiable(results: Sequence[CheckResult]) -> list[CheckResult]:
    """When the network is down nothing may be called broken: network failures become
    `unverified` (evidence kept); answers that did arrive keep their verdicts."""
    return [
        replace(r, state=LinkState.UNVERIFIED, detail=UNREACHABLE)
        if r.error_class in _NETWORK_CLASSES and r.state is not LinkState.SKIPPED
        else r
        for r in results
    ]
