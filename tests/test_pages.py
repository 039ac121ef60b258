"""HTML inspection, retry predicate and verdict pieces: pure functions, no server."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkfresh.collector.check.pages import (
    Page,
    bot_wall_sign,
    fragment_present,
    inspect_html,
    redirected_to_root,
    soft_404_sign,
)
from linkfresh.collector.web.retry import (
    Failure,
    Retry,
    backoff_delay,
    parse_retry_after,
    retry_plan,
)

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_inspect_html_collects_title_heading_and_anchors() -> None:
    page = inspect_html(b'<title> Docs </title><h1>Intro</h1><div id="a"></div>'
                        b'<a name="b"></a><h2 id="user-content-setup">Setup</h2>')
    assert (page.title, page.heading) == ("Docs", "Intro")
    assert {"a", "b", "user-content-setup", "setup"} <= page.anchors


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [("a", True), ("missing", False), ("Setup", True), ("caf%C3%A9", True),
     ("L10-L20", None), (":~:text=hi", None), ("/route", None), ("page=3", None), ("", None)],
)
def test_fragment_present(fragment: str, expected: bool | None) -> None:
    page = Page("t", None, frozenset({"a", "setup", "café"}))
    assert fragment_present(fragment, page) is expected


@pytest.mark.parametrize(
    ("title", "soft"),
    [("Page Not Found | Example", True), ("404", True), ("Error 404 - Site", True),
     ("Not Found", True), ("This page doesn't exist", True),
     ("Attention Is All You Need", False), ("HTTP status codes explained", False),
     ("Finding the right model", False)],
)
def test_soft_404_titles(title: str, soft: bool) -> None:
    assert (soft_404_sign(Page(title, None, frozenset())) is not None) is soft


def test_bot_wall_signs() -> None:
    assert bot_wall_sign({"cf-mitigated": "challenge"}, None)
    assert bot_wall_sign({}, Page("Just a moment...", None, frozenset()))
    assert bot_wall_sign({}, Page("Welcome", None, frozenset())) is None


@pytest.mark.parametrize(
    ("requested", "final", "root"),
    [("https://a.io/blog/post", "https://a.io/", True),
     ("https://a.io/index.html", "https://a.io/", False),
     ("https://a.io/", "https://www.a.io/", False),
     ("https://a.io/docs/x", "https://a.io/docs/", False)],
)
def test_redirected_to_root(requested: str, final: str, root: bool) -> None:
    assert redirected_to_root(requested, final) is root


@pytest.mark.parametrize(
    ("status", "failure", "kind"),
    [(500, None, Retry.BACKOFF), (503, None, Retry.BACKOFF), (501, None, Retry.NO),
     (408, None, Retry.BACKOFF), (429, None, Retry.BACKOFF), (404, None, Retry.NO),
     (200, None, Retry.NO), (None, Failure.TIMEOUT, Retry.NO),
     (None, Failure.CONNECT_TIMEOUT, Retry.BACKOFF),
     (None, Failure.RESET, Retry.BACKOFF), (None, Failure.NO_HOST, Retry.ONCE),
     (None, Failure.REFUSED, Retry.ONCE), (None, Failure.TLS, Retry.NO),
     (None, Failure.BLOCKED, Retry.NO), (None, Failure.REDIRECT_LOOP, Retry.NO)],
)
def test_retry_table(status: int | None, failure: Failure | None, kind: Retry) -> None:
    plan = retry_plan(status, failure, 0, retries=3, backoff=1, dns_pause=2, retry_after=None)
    assert plan.kind is kind


def test_retry_after_wins_for_429_and_503_and_dns_retries_only_once() -> None:
    options = {"retries": 3, "backoff": 1.0, "dns_pause": 2.0}
    assert retry_plan(429, None, 0, retry_after=7, **options).delay == 7
    assert retry_plan(503, None, 0, retry_after=7, **options).kind is Retry.AFTER
    assert retry_plan(None, Failure.NO_HOST, 1, retry_after=None, **options).kind is Retry.NO
    assert retry_plan(500, None, 3, retry_after=None, **options).kind is Retry.NO


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), ("0", 0.0), ("Mon, 05 Jan 2026 12:01:00 GMT", 60.0),
     ("Mon, 05 Jan 2026 11:00:00 GMT", 0.0), ("soon", None), ("-5", None), (None, None)],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


@given(st.integers(0, 8), st.floats(0, 10), st.integers())
def test_backoff_is_between_half_and_full(attempt: int, base: float, seed: int) -> None:
    delay = backoff_delay(attempt, base, random.Random(seed))
    assert base * 2**attempt / 2 <= delay <= base * 2**attempt


@given(st.text())
def test_parse_retry_after_never_raises(value: str) -> None:
    result = parse_retry_after(value, NOW)
    assert result is None or result >= 0
