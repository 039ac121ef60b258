"""Hugging Face's daily papers: parsing, reading a real local server, off when unreachable."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from datetime import date

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkfresh.collector.news.daily_papers import (
    DailyPapers,
    fetch_daily_papers,
    parse_daily_papers,
)
from linkfresh.stages.daily_papers_lookup import MAX_DAYS, period_days
from tests.servers import LocalServer, Reply, Request, closed_port

DAYS = [date(2026, 11, 24), date(2026, 11, 25)]


def _reply(entries: list[object]) -> Reply:
    return Reply(200, {"Content-Type": "application/json"}, json.dumps(entries))


def fetch(url: str, days: list[date] = DAYS, max_bytes: int = 100_000) -> DailyPapers:
    async def go() -> DailyPapers:
        async with httpx.AsyncClient(trust_env=False, timeout=1.0) as client:
            return await fetch_daily_papers(client, url, days, max_bytes)
    return asyncio.run(go())


def test_parse_keeps_arxiv_ids_and_upvotes() -> None:
    body = json.dumps([
        {"paper": {"id": "2411.01234", "upvotes": 7, "title": "A"}},
        {"paper": {"id": "2411.01234", "upvotes": 9}},
        {"paper": {"id": "2411.05678"}},
        {"paper": {"id": "not-an-id", "upvotes": 3}},
        {"paper": "odd"}, "odd", {"paper": {"id": "2411.00001", "upvotes": True}},
    ]).encode()
    assert parse_daily_papers(body) == {"2411.01234": 9, "2411.05678": 0, "2411.00001": 0}


@pytest.mark.parametrize("body", [b"<html>", b'{"error": "rate limited"}', b"\xff\xfe"])
def test_parse_refuses_what_is_not_a_list_of_papers(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_daily_papers(body)


@given(st.binary(max_size=300))
def test_parse_never_raises_anything_else(body: bytes) -> None:
    outcome: object = "raised ValueError"
    with contextlib.suppress(ValueError):
        outcome = parse_daily_papers(body)
    assert outcome == "raised ValueError" or isinstance(outcome, dict)


def test_reads_each_day_of_the_period(new_server: Callable[[], LocalServer]) -> None:
    server = new_server()
    asked: list[str] = []

    def handle(request: Request) -> Reply:
        day = request.query.split("date=")[-1]
        asked.append(day)
        return _reply([{"paper": {"id": "2411.00002", "upvotes": 3}}] if day.endswith("25")
                      else [])

    found = fetch(server.route("/api/daily_papers", handle))
    assert asked == ["2026-11-24", "2026-11-25"]
    assert found.picked == {"2411.00002": 3} and found.error is None


def test_a_failure_stops_reading_and_keeps_what_was_found(
    new_server: Callable[[], LocalServer]
) -> None:
    server = new_server()
    replies = iter([_reply([{"paper": {"id": "2411.00003", "upvotes": 1}}]),
                    Reply(503, {}, "busy")])
    found = fetch(server.route("/api/daily_papers", lambda _request: next(replies)))
    assert found.picked == {"2411.00003": 1}
    assert found.error == "HTTP 503 for 2026-11-25"


def test_unreachable_and_oversized_are_errors_not_exceptions(
    new_server: Callable[[], LocalServer]
) -> None:
    refused = fetch(f"http://127.0.0.1:{closed_port()}/api/daily_papers")
    assert refused.picked == {} and refused.error and "ConnectError" in refused.error
    server = new_server()
    url = server.route("/api/daily_papers", _reply([{"paper": {"id": "2411.00001"}}] * 500))
    big = fetch(url, max_bytes=1000)
    assert big.error == "larger than 1000 bytes"
    html = server.route("/html", Reply(200, {"Content-Type": "text/html"}, "<html></html>"))
    assert (fetch(html).error or "").startswith("unreadable reply for 2026-11-24")


def test_period_days_are_the_last_month_at_most() -> None:
    from datetime import UTC, datetime
    week = period_days(datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))
    assert week[0] == date(2026, 11, 23) and week[-1] == date(2026, 11, 29) and len(week) == 7
    year = period_days(datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))
    assert len(year) == MAX_DAYS and year[-1] == date(2025, 12, 31)
