"""The start order of a run: slowest known URL first, hosts interleaved, guide order otherwise."""

from __future__ import annotations

from collections import deque

from hypothesis import given
from hypothesis import strategies as st

from linkfresh.collector.check.order import (
    SLOW_SECONDS,
    host_queues,
    slow_share,
    take_next,
    worker_starts,
)


def test_without_history_the_guide_order_stands() -> None:
    queues = host_queues({"a": ["a1", "a2", "a3"], "b": ["b1"]}, {})
    assert {host: list(queue) for host, queue in queues.items()} == {
        "a": ["a1", "a2", "a3"], "b": ["b1"]}
    assert list(queues) == ["a", "b"]


def test_slowest_known_url_goes_first_and_its_host_leads() -> None:
    expected = {"a2": 0.5, "b2": 9.0, "b1": 0.1}
    queues = host_queues({"a": ["a1", "a2", "a3"], "b": ["b1", "b2", "b3"]}, expected)
    assert list(queues) == ["b", "a"]
    assert list(queues["b"]) == ["b2", "b1", "b3"]  # unknown b3 keeps its place after the known
    assert list(queues["a"]) == ["a2", "a1", "a3"]


def test_workers_start_one_per_host_per_round_up_to_the_limit() -> None:
    starts = list(worker_starts({"a": 5, "b": 1, "c": 2}, per_host=3))
    assert starts == ["a", "b", "c", "a", "c", "a"]
    assert list(worker_starts({"a": 5}, per_host=0)) == []


def test_slow_urls_get_their_share_of_the_connections_and_at_least_half() -> None:
    quick = {f"q{n}": 0.1 for n in range(100)}  # 10 s of quick work
    assert slow_share(quick, quick, 64) == 64  # nothing slow: no limit
    few_slow = {**quick, "s1": 2.0, "s2": 2.0}  # 4 of 14 s: 19 connections, raised to 32
    assert slow_share(few_slow, few_slow, 64) == 32
    mostly_slow = {**quick, **{f"s{n}": 10.0 for n in range(10)}}  # 100 of 110 s
    assert slow_share(mostly_slow, mostly_slow, 64) == 59
    assert slow_share(mostly_slow, mostly_slow, 1) == 1
    assert slow_share({"s": 5.0}, ["s", "unknown"], 8) == 8  # unknown URLs count as no work


def test_a_worker_passes_over_slow_urls_while_they_hold_their_share() -> None:
    def is_slow(url: str) -> bool:
        return url.startswith("s")

    queue = deque(["s1", "s2", "q1", "q2"])
    assert take_next(queue, is_slow, slow_full=False) == "s1"  # room: the slowest first
    assert take_next(queue, is_slow, slow_full=True) == "q1"  # full: the first quick one
    assert list(queue) == ["s2", "q2"]
    assert take_next(queue, is_slow, slow_full=True) == "q2"
    assert take_next(queue, is_slow, slow_full=True) == "s2"  # only slow left: start it
    assert not queue


@given(st.dictionaries(st.text(max_size=3), st.floats(0, 100), max_size=30),
       st.integers(1, 128))
def test_the_slow_share_is_never_more_than_the_connections(
    expected: dict[str, float], concurrency: int
) -> None:
    share = slow_share(expected, expected, concurrency)
    assert 1 <= share <= concurrency
    if any(seconds >= SLOW_SECONDS for seconds in expected.values()):
        assert share >= concurrency // 2


@given(st.lists(st.tuples(st.text(max_size=3), st.booleans()), min_size=1, max_size=20,
                unique_by=lambda item: item[0]),
       st.booleans())
def test_take_next_takes_exactly_one_url_of_the_queue(
    items: list[tuple[str, bool]], slow_full: bool
) -> None:
    slow = {url for url, is_slow in items if is_slow}
    queue = deque(url for url, _ in items)
    taken = take_next(queue, slow.__contains__, slow_full)
    assert sorted([taken, *queue]) == sorted(url for url, _ in items)
    quick_left = [url for url, _ in items if url not in slow]
    if slow_full and quick_left:
        assert taken == quick_left[0]  # never a slow one while a quick one waits
