"""The collector's tuning for a check is the check's alone: restored after, even on error."""

from __future__ import annotations

import gc

import pytest

from linkfresh.collector.check.heap import FETCHING_THRESHOLD, tuned_for_fetching


def test_a_check_freezes_the_heap_and_enlarges_the_young_generation() -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with tuned_for_fetching():
        assert gc.get_threshold() == (FETCHING_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > frozen
        with tuned_for_fetching(threshold=50):  # nested: the outer tuning stands
            assert gc.get_threshold()[0] == FETCHING_THRESHOLD
        assert gc.get_threshold()[0] == FETCHING_THRESHOLD and gc.get_freeze_count() > frozen
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen


def test_the_tuning_is_undone_when_the_check_fails() -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    with pytest.raises(RuntimeError), tuned_for_fetching():
        raise RuntimeError("the check failed")
    assert gc.get_threshold() == before and gc.get_freeze_count() == frozen
