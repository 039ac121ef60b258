"""The start order of a run: slowest known URL first, hosts interleaved, guide order otherwise."""

from __future__ import annotations

from linkfresh.collector.check.order import host_queues, worker_starts


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
