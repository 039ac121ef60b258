"""Cron strings mean what cron means (Monday = 1); "due" is computed from what was done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from linkfresh.schedule import cron_trigger, cron_weekdays_to_names, is_due, last_fire_time

SUNDAY = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "names"),
    [("1", "mon"), ("0", "sun"), ("7", "sun"), ("1-5", "mon,tue,wed,thu,fri"),
     ("0,6", "sun,sat"), ("*/2", "sun,tue,thu,sat"), ("mon-fri", "mon-fri"), ("*", "*"),
     ("5-7", "sun,fri,sat")],
)
def test_weekday_numbers_follow_cron(field: str, names: str) -> None:
    assert cron_weekdays_to_names(field) == names


def test_monday_is_1_like_cron() -> None:
    fire = cron_trigger("0 8 * * 1", "UTC").get_next_fire_time(None, SUNDAY)
    assert fire == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert fire.strftime("%A") == "Monday"
    named = cron_trigger("0 8 * * mon", "UTC").get_next_fire_time(None, SUNDAY)
    assert named == fire


def test_timezone_is_respected() -> None:
    fire = cron_trigger("0 8 * * 1", "America/New_York").get_next_fire_time(None, SUNDAY)
    assert fire.astimezone(UTC) == datetime(2026, 11, 30, 13, 0, tzinfo=UTC)


def test_bad_weekday_is_an_error() -> None:
    with pytest.raises(ValueError, match="out of range"):
        cron_weekdays_to_names("9")


def test_seconds_field() -> None:
    trigger = cron_trigger("*/5 * * * * *", "UTC")
    assert last_fire_time(trigger, SUNDAY + timedelta(seconds=7)) == SUNDAY + timedelta(seconds=5)


def test_digest_due_once_per_week() -> None:
    monday_0800 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    expression = "0 8 * * mon"
    last_week = monday_0800 - timedelta(days=7, hours=-1)
    assert not is_due(expression, "UTC", last_week, monday_0800 - timedelta(minutes=1))
    assert is_due(expression, "UTC", None, monday_0800)  # never done: the missed one happens
    # The first run on or after Monday 08:00 does it...
    assert is_due(expression, "UTC", last_week, monday_0800 + timedelta(hours=3))
    # ...and hourly runs after that do not, until next Monday.
    done = monday_0800 + timedelta(hours=3)
    assert not is_due(expression, "UTC", done, done + timedelta(days=6))
    assert is_due(expression, "UTC", done, monday_0800 + timedelta(days=7))
