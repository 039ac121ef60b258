"""The pure decision "what is this link now?", given its counters, a new check and `now`.

No I/O and no clock: `runs.py` loads `Tracked` from a row, calls `advance`, stores the
outcome. The rules are documented on `advance` and in the README.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from linkfresh.collector.types import LinkState
from linkfresh.config.settings import CheckSettings

# How far back state flips are counted when deciding that a link flaps. Two weeks lets a
# link that breaks and recovers every week reach the default threshold of 4 flips.
DEFAULT_FLAPPING_WINDOW = timedelta(days=14)


class Verdict(StrEnum):
    """A resource's state across runs (a `LinkState` is one check's outcome)."""

    NEW = "new"  # never checked
    OK = "ok"
    REDIRECTED = "redirected"  # permanently moved: the guide should be updated
    FAILING = "failing"  # failed, not (yet) confirmed
    BROKEN = "broken"  # failed `confirm_after` runs spanning `confirm_span`
    FLAPPING = "flapping"  # flips between good and failed too often to call either
    UNVERIFIED = "unverified"  # bot wall / rate limit: not proven dead
    SKIPPED = "skipped"  # excluded or not http
    CHANGED = "changed"  # answers, but not with what it was when added (until accepted)


class Event(StrEnum):
    """Transitions worth a line in the digest; stored on the result that caused them."""

    FAILING = "failing"
    BROKEN = "broken"
    FIXED = "fixed"  # recovered after having been reported broken
    RECOVERED = "recovered"  # recovered while only failing: nothing was ever reported
    FLAPPING = "flapping"


@dataclass(frozen=True, slots=True)
class StateRules:
    confirm_after: int = 2
    confirm_span: timedelta = timedelta(hours=6)
    flapping_changes: int = 4
    flapping_window: timedelta = DEFAULT_FLAPPING_WINDOW

    @classmethod
    def from_settings(cls, check: CheckSettings) -> StateRules:
        return cls(
            confirm_after=check.confirm_after,
            confirm_span=timedelta(hours=check.confirm_span_hours),
            flapping_changes=check.flapping_changes,
        )


@dataclass(frozen=True, slots=True)
class Tracked:
    """What a resource carries from run to run."""

    verdict: Verdict = Verdict.NEW
    since: datetime | None = None
    failures: int = 0  # consecutive failed checks (unverified/skipped do not reset it)
    failing_since: datetime | None = None
    broken_since: datetime | None = None  # set while it counts as reported broken
    last_ok: datetime | None = None
    flips: tuple[datetime, ...] = ()  # good<->failed changes within the flapping window


@dataclass(frozen=True, slots=True)
class Transition:
    before: Tracked
    after: Tracked
    event: Event | None

    @property
    def changed(self) -> bool:
        return self.before.verdict != self.after.verdict


def advance(
    current: Tracked,
    state: LinkState,
    now: datetime,
    rules: StateRules,
    *,
    network_down: bool = False,
) -> Transition:
    """The resource's state after a check whose outcome is `state`, made at `now`.

    | check outcome          | effect                                                      |
    |------------------------|-------------------------------------------------------------|
    | any, network down      | nothing changes (we learnt nothing about the link)          |
    | skipped                | verdict skipped; failure count kept                         |
    | unverified             | verdict unverified; a broken/flapping link stays so; kept   |
    | broken/error/timeout/  | failures+1; broken once >= confirm_after spanning the span, |
    | parked                 | else failing                                                |
    | ok/redirected/changed  | failures reset; "fixed" if it had been reported broken      |
    A change between good and failed is a flip; `flapping_changes` flips inside the window
    make the link flapping until they age out of the window.
    """
    if network_down:
        return Transition(current, current, None)
    match state:
        case LinkState.SKIPPED:
            after = _enter(current, Verdict.SKIPPED, now)
            return Transition(current, after, None)
        case LinkState.UNVERIFIED:
            keep = current.verdict in (Verdict.BROKEN, Verdict.FLAPPING)
            after = current if keep else _enter(current, Verdict.UNVERIFIED, now)
            return Transition(current, after, None)
        case LinkState.BROKEN | LinkState.ERROR | LinkState.TIMEOUT | LinkState.PARKED:
            return _failed(current, now, rules)
        case LinkState.OK | LinkState.REDIRECTED | LinkState.CHANGED:
            return _recovered(current, _GOOD[state], now, rules)
    raise AssertionError(f"unhandled link state {state!r}")  # pragma: no cover


_GOOD = {LinkState.OK: Verdict.OK, LinkState.REDIRECTED: Verdict.REDIRECTED,
         LinkState.CHANGED: Verdict.CHANGED}


def _enter(current: Tracked, verdict: Verdict, now: datetime, **changes: object) -> Tracked:
    since = current.since if verdict == current.verdict else now
    return replace(current, verdict=verdict, since=since, **changes)  # type: ignore[arg-type]


def _recent(flips: tuple[datetime, ...], now: datetime, rules: StateRules) -> tuple[datetime, ...]:
    return tuple(flip for flip in flips if now - flip < rules.flapping_window)


def _failed(current: Tracked, now: datetime, rules: StateRules) -> Transition:
    flips = _recent(current.flips, now, rules)
    if current.failures == 0 and current.verdict in (Verdict.OK, Verdict.REDIRECTED,
                                                     Verdict.CHANGED, Verdict.FLAPPING):
        flips += (now,)
    failures = current.failures + 1
    failing_since = current.failing_since or now
    confirmed = failures >= rules.confirm_after and now - failing_since >= rules.confirm_span
    if len(flips) >= rules.flapping_changes:
        verdict, event = Verdict.FLAPPING, Event.FLAPPING
    elif confirmed:
        verdict, event = Verdict.BROKEN, Event.BROKEN
    else:
        verdict, event = Verdict.FAILING, Event.FAILING
    broken_since = current.broken_since
    if verdict is Verdict.BROKEN and broken_since is None:
        broken_since = now
    after = _enter(current, verdict, now, failures=failures, failing_since=failing_since,
                   broken_since=broken_since, flips=flips)
    return Transition(current, after, event if after.verdict != current.verdict else None)


def _recovered(current: Tracked, good: Verdict, now: datetime, rules: StateRules) -> Transition:
    flips = _recent(current.flips, now, rules)
    if current.failures > 0:
        flips += (now,)
    verdict = Verdict.FLAPPING if len(flips) >= rules.flapping_changes else good
    after = _enter(current, verdict, now, failures=0, failing_since=None, broken_since=None,
                   last_ok=now, flips=flips)
    event: Event | None = None
    if verdict is Verdict.FLAPPING:
        event = Event.FLAPPING if current.verdict is not Verdict.FLAPPING else None
    elif current.broken_since is not None:
        event = Event.FIXED
    elif current.failures > 0:
        event = Event.RECOVERED
    return Transition(current, after, event)
