"""Hosts that failed in this run, so that their other links cost less: once a host has let a
request time out, its retries and later requests wait `stalled_host_timeout` instead of the
full timeouts; once it has refused (or not resolved) twice, a pause apart, its other links
get one attempt and no pause.
"""

from __future__ import annotations

import httpx

from linkfresh.collector.web.retry import TIMEOUTS, UNREACHABLE, Failure


class StalledHosts:
    """Which hosts timed out in this run, and the shorter timeouts their requests get.

    A host that stalled once is likely to stall again (a server that accepts connections and
    never answers stalls every link); a healthy page on it still answers well within the
    shorter wait, so only another stall is cut short.
    """

    def __init__(self, connect: float, read: float, stalled: float, pool: float) -> None:
        self._shorter = httpx.Timeout(
            connect=min(connect, stalled), read=min(read, stalled), write=min(read, stalled),
            pool=pool,
        )
        self._hosts: set[str] = set()

    def timeout_for(self, host: str) -> httpx.Timeout | None:
        """The timeouts for a request to `host`: None means the client's own."""
        return self._shorter if host in self._hosts else None

    def saw(self, host: str, failure: Failure | None) -> None:
        """Remember `host` when an attempt on it ended in a timeout."""
        if failure in TIMEOUTS:
            self._hosts.add(host)

    def __contains__(self, host: object) -> bool:
        return host in self._hosts


class UnreachableHosts:
    """Which hosts were found unreachable in this run: refused or not found by DNS on a
    first attempt and again after the pause (`dns_retry_pause`).

    Such a host is down for now (a stopped server, a dead domain, no network at all): its
    other links are asked once and not paused for, instead of each waiting the pause for
    the same answer. A host that comes back later in the run still answers that one try.
    """

    def __init__(self) -> None:
        self._hosts: set[str] = set()

    def saw(self, host: str, failure: Failure | None, attempt: int) -> None:
        """Remember `host` when a retry (`attempt` >= 1) failed to reach it again."""
        if failure in UNREACHABLE and attempt >= 1:
            self._hosts.add(host)

    def known_down(self, host: str, failure: Failure | None) -> bool:
        """Whether this failure only repeats what the run already knows about `host`."""
        return failure in UNREACHABLE and host in self._hosts
