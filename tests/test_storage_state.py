"""The pure link state machine: table-driven sequences, plus properties with hypothesis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkfresh.collector.types import LinkState
from linkfresh.storage.state import Event, StateRules, Tracked, Verdict, advance
from tests.storage_helpers import T0

OK, RED, BRK, ERR, TMO, UNV, SKP = (LinkState.OK, LinkState.REDIRECTED, LinkState.BROKEN,
                                    LinkState.ERROR, LinkState.TIMEOUT, LinkState.UNVERIFIED,
                                    LinkState.SKIPPED)
RULES = StateRules(confirm_after=2, confirm_span=timedelta(hours=6), flapping_changes=4,
                   flapping_window=timedelta(days=14))


def run(steps: list[tuple[float, LinkState]]) -> list[tuple[Verdict, Event | None]]:
    """Apply (hours after T0, outcome) steps from a new link; the verdict and event of each."""
    tracked, seen = Tracked(), []
    for hours, state in steps:
        move = advance(tracked, state, T0 + timedelta(hours=hours), RULES)
        tracked = move.after
        seen.append((move.after.verdict, move.event))
    return seen


CASES = {
    "ok stays ok": ([(0, OK), (24, OK)], [(Verdict.OK, None), (Verdict.OK, None)]),
    "one failure is failing, not broken": ([(0, OK), (24, BRK)],
                                           [(Verdict.OK, None), (Verdict.FAILING, Event.FAILING)]),
    "two failures spanning 6h are broken": (
        [(0, BRK), (6, ERR)], [(Verdict.FAILING, Event.FAILING), (Verdict.BROKEN, Event.BROKEN)]),
    "two failures too close together stay failing": (
        [(0, BRK), (1, BRK), (7, TMO)],
        [(Verdict.FAILING, Event.FAILING), (Verdict.FAILING, None),
         (Verdict.BROKEN, Event.BROKEN)]),
    "recovery after broken is fixed": (
        [(0, BRK), (24, BRK), (48, OK)],
        [(Verdict.FAILING, Event.FAILING), (Verdict.BROKEN, Event.BROKEN),
         (Verdict.OK, Event.FIXED)]),
    "recovery while failing is only recovered": (
        [(0, BRK), (24, OK)], [(Verdict.FAILING, Event.FAILING), (Verdict.OK, Event.RECOVERED)]),
    "unverified is not a failure and keeps the count": (
        [(0, BRK), (24, UNV), (48, BRK)],
        [(Verdict.FAILING, Event.FAILING), (Verdict.UNVERIFIED, None),
         (Verdict.BROKEN, Event.BROKEN)]),
    "a bot wall does not clear broken": (
        [(0, BRK), (24, BRK), (48, UNV)],
        [(Verdict.FAILING, Event.FAILING), (Verdict.BROKEN, Event.BROKEN),
         (Verdict.BROKEN, None)]),
    "skipped is neither": ([(0, OK), (24, SKP), (48, OK)],
                           [(Verdict.OK, None), (Verdict.SKIPPED, None), (Verdict.OK, None)]),
    "permanent redirect": ([(0, RED)], [(Verdict.REDIRECTED, None)]),
    "flips four times in two weeks is flapping": (
        [(0, OK), (24, BRK), (48, OK), (72, BRK), (96, OK), (120, OK)],
        [(Verdict.OK, None), (Verdict.FAILING, Event.FAILING), (Verdict.OK, Event.RECOVERED),
         (Verdict.FAILING, Event.FAILING), (Verdict.FLAPPING, Event.FLAPPING),
         (Verdict.FLAPPING, None)]),
    "flapping ends once the flips age out": (
        [(0, OK), (24, BRK), (48, OK), (72, BRK), (96, OK), (24 * 20, OK)],
        [(Verdict.OK, None), (Verdict.FAILING, Event.FAILING), (Verdict.OK, Event.RECOVERED),
         (Verdict.FAILING, Event.FAILING), (Verdict.FLAPPING, Event.FLAPPING),
         (Verdict.OK, None)]),
}


@pytest.mark.parametrize("steps, expected", CASES.values(), ids=CASES.keys())
def test_sequences(steps: list[tuple[float, LinkState]],
                   expected: list[tuple[Verdict, Event | None]]) -> None:
    assert run(steps) == expected


def test_since_moves_only_when_the_verdict_changes() -> None:
    first = advance(Tracked(), OK, T0, RULES).after
    again = advance(first, OK, T0 + timedelta(days=1), RULES).after
    assert again.since == T0 and again.last_ok == T0 + timedelta(days=1)


def test_confirm_after_three() -> None:
    rules = StateRules(confirm_after=3, confirm_span=timedelta(0))
    tracked = Tracked()
    verdicts = []
    for day in range(3):
        tracked = advance(tracked, BRK, T0 + timedelta(days=day), rules).after
        verdicts.append(tracked.verdict)
    assert verdicts == [Verdict.FAILING, Verdict.FAILING, Verdict.BROKEN]


states = st.sampled_from(list(LinkState))
tracked_states = st.lists(st.tuples(st.floats(0, 48), states), max_size=12)


def _walk(steps: list[tuple[float, LinkState]]) -> Tracked:
    tracked, at = Tracked(), T0
    for gap, state in steps:
        at += timedelta(hours=gap)
        tracked = advance(tracked, state, at, RULES).after
    return tracked


@given(tracked_states, states)
def test_network_down_changes_nothing(steps: list[tuple[float, LinkState]],
                                      state: LinkState) -> None:
    tracked = _walk(steps)
    move = advance(tracked, state, T0 + timedelta(days=30), RULES, network_down=True)
    assert move.after == tracked and move.event is None


@given(tracked_states, st.sampled_from([UNV, SKP]))
def test_unverified_and_skipped_never_count_as_failures(
        steps: list[tuple[float, LinkState]], state: LinkState) -> None:
    tracked = _walk(steps)
    after = advance(tracked, state, T0 + timedelta(days=30), RULES).after
    assert after.failures == tracked.failures
    assert after.verdict not in (Verdict.FAILING,) or tracked.verdict == Verdict.FAILING
    if tracked.verdict not in (Verdict.BROKEN, Verdict.FLAPPING):
        assert after.verdict != Verdict.BROKEN


@given(tracked_states)
def test_broken_needs_confirmation(steps: list[tuple[float, LinkState]]) -> None:
    tracked = _walk(steps)
    if tracked.verdict == Verdict.BROKEN:
        assert tracked.failures >= RULES.confirm_after
        assert tracked.failing_since is not None and tracked.since is not None
        assert tracked.since - tracked.failing_since >= RULES.confirm_span
    if tracked.verdict in (Verdict.OK, Verdict.REDIRECTED):
        assert tracked.failures == 0 and tracked.broken_since is None
