"""Hosts that stalled in this run: once a host has let a request time out, its retries and
later requests wait `stalled_host_timeout` instead of the full timeouts.
"""

from __future__ import annotations

import httpx

from linkfresh.collector.web.retry import TIMEOUTS, Failure


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
