"""Per-host politeness for one run: concurrency, minimum interval, remembered `Retry-After`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class _Host:
    slots: asyncio.Semaphore
    next_start: float = 0.0
    not_before: float = 0.0  # a Retry-After the host sent applies to all its URLs


class HostLimits:
    """Gates requests per host; the global limit is taken only once a host slot is held,
    so URLs queued behind one slow host never occupy the slots other hosts need."""

    def __init__(
        self,
        per_host: int,
        concurrency: int,
        min_interval: float = 0.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._per_host = per_host
        self._global = asyncio.Semaphore(concurrency)
        self._interval = min_interval
        self._clock = clock
        self._sleep = sleep
        self._hosts: dict[str, _Host] = {}

    def _host(self, host: str) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            state = self._hosts[host] = _Host(asyncio.Semaphore(self._per_host))
        return state

    def wait_for(self, host: str) -> float:
        """Seconds until `host` may be asked again, per the Retry-After it sent."""
        return max(0.0, self._host(host).not_before - self._clock())

    def defer(self, host: str, seconds: float) -> None:
        """Remember a Retry-After for the rest of the run (RFC 9110 §10.2.3 applies it
        to the resource, but a 429 is about the client's rate, so the whole host waits)."""
        state = self._host(host)
        state.not_before = max(state.not_before, self._clock() + seconds)

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        """Hold a host slot and a global slot for one request."""
        state = self._host(host)
        async with state.slots:
            now = self._clock()
            # Reserve a start time synchronously (no await in between), so starts are spaced.
            start = max(now, state.next_start, state.not_before)
            state.next_start = start + self._interval
            if start > now:
                await self._sleep(start - now)
            async with self._global:
                yield
