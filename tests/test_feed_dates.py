"""Feed dates are read strictly: an impossible date is dropped, never rolled into another."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from linkfresh.collector.news.feed_dates import feed_date
from linkfresh.collector.news.feed_parse import parse_feed
from tests.feed_samples import atom, rss


@pytest.mark.parametrize(("raw", "moment"), [
    # Valid dates, as RSS (RFC 822) and Atom (RFC 3339) write them.
    ("Wed, 20 Nov 2024 09:00:00 +0100", datetime(2024, 11, 20, 8, 0, tzinfo=UTC)),
    ("Wed, 20 Nov 2024 09:00:00 GMT", datetime(2024, 11, 20, 9, 0, tzinfo=UTC)),
    ("20 Nov 2024 09:00 -0530", datetime(2024, 11, 20, 14, 30, tzinfo=UTC)),
    ("2024-11-20T09:00:00Z", datetime(2024, 11, 20, 9, 0, tzinfo=UTC)),
    ("2024-11-20T09:00:00.250+02:00", datetime(2024, 11, 20, 7, 0, 0, 250000, tzinfo=UTC)),
    ("2024-02-29T12:00:00Z", datetime(2024, 2, 29, 12, 0, tzinfo=UTC)),
    ("2024-11-20", datetime(2024, 11, 20, tzinfo=UTC)),
    ("2024-11", datetime(2024, 11, 1, tzinfo=UTC)),
    # Impossible ones: dropped, not coerced.
    ("2024-13-45T00:00:00Z", None),  # feedparser: 2025-01-01
    ("2024-02-30T10:00:00Z", None),  # feedparser: 2024-03-01
    ("2023-02-29", None),
    ("2024-01-01T25:61:61Z", None),
    ("2024-03-01T10:00:00+99:99", None),  # feedparser: shifted four days back
    ("2024-03-01T10:00:00+9999", None),
    ("2024-03-01T10:00:00+05:99", None),
    ("Fri, 30 Feb 2024 10:00:00 GMT", None),
    ("Mon, 01 Jan 2024 10:00:00 +9999", None),  # feedparser: 2023-12-28
    ("Mon, 01 Jan 2024 10:00:00 +0099", None),
    ("Mon, 01 Jan 2024 25:00:00 GMT", None),
    ("", None),
    ("sometime last week", None),
])
def test_feed_date(raw: str, moment: datetime | None) -> None:
    assert feed_date(raw) == moment


def test_a_format_only_feedparser_knows_keeps_its_reading() -> None:
    parsed = datetime(2024, 11, 20, 9, 0, tzinfo=UTC).timetuple()
    assert feed_date("20 November 2024 9am, give or take", parsed) == datetime(
        2024, 11, 20, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["2024-13-45T00:00:00Z", "Fri, 30 Feb 2024 10:00:00 GMT",
                                 "2024-03-01T10:00:00+99:99", "Mon, 01 Jan 2024 10:00:00 +9999"])
def test_impossible_dates_leave_rss_and_atom_items_undated(raw: str) -> None:
    good = datetime(2024, 11, 20, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    body = rss([("https://blog.example.org/bad", "Bad", raw, "x"),
                ("https://blog.example.org/good", "Good", good, "x")])
    items = parse_feed(body.encode(), "https://blog.example.org/rss").items
    assert [item.published for item in items] == [None, good.astimezone(UTC)]
    feed = atom([("https://blog.example.org/bad", "Bad", raw, "x")])
    [entry] = parse_feed(feed.encode(), "https://blog.example.org/atom").items
    assert entry.published is None
