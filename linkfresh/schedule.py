"""Cron schedules: standard cron strings to APScheduler triggers, and "is this job due?".

Standard cron counts weekdays from Sunday = 0 (7 is Sunday too); APScheduler's numeric
`day_of_week` starts at Monday = 0, so `0 8 * * 1` taken literally would fire on Tuesday.
Numbers are therefore translated to day names before APScheduler sees them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# Windows searched, smallest first, for the last fire time: short enough that a schedule of
# seconds is not stepped through for a year, long enough to cover yearly schedules.
_LOOKBACKS = tuple(
    timedelta(seconds=seconds) for seconds in (60, 3600, 86400, 8 * 86400, 32 * 86400, 400 * 86400)
)


def _weekday_numbers(field: str) -> list[int] | None:
    """Expand one comma part of a numeric cron weekday field; None if it uses names."""
    base, _, step_text = field.partition("/")
    step = int(step_text) if step_text else 1
    if base == "*":
        start, end = 0, 6
    elif "-" in base:
        low, high = base.split("-", 1)
        if not (low.isdigit() and high.isdigit()):
            return None
        start, end = int(low), int(high)
    elif base.isdigit():
        start = end = int(base)
        if step_text:
            end = 7
    else:
        return None
    if not (0 <= start <= 7 and 0 <= end <= 7) or step < 1:
        raise ValueError(f"weekday {field!r} is out of range 0-7")
    return sorted({day % 7 for day in range(start, end + 1, step)})


def cron_weekdays_to_names(field: str) -> str:
    """`1` -> `mon`, `1-5` -> `mon,tue,wed,thu,fri`, `0,6` -> `sun,sat`; names pass through."""
    if field == "*":
        return field
    names: list[str] = []
    for part in field.split(","):
        numbers = _weekday_numbers(part)
        names += [part] if numbers is None else [_DAY_NAMES[n] for n in numbers]
    return ",".join(names)


def cron_trigger(expression: str, timezone: str) -> CronTrigger:
    """A trigger for a 5-field cron string, or 6 fields with a leading seconds field."""
    fields = expression.split()
    if len(fields) not in (5, 6):
        raise ValueError(f"{expression!r} is not a 5-field (or 6-field with seconds) cron string")
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, day_of_week = fields
    return CronTrigger(
        second=second,
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=cron_weekdays_to_names(day_of_week),
        timezone=ZoneInfo(timezone),
    )


def last_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest time at or before `now` the trigger fired (None if not within ~a year)."""
    for window in _LOOKBACKS:
        candidate = trigger.get_next_fire_time(None, now - window)
        last = None
        while candidate is not None and candidate <= now:
            last = candidate
            candidate = trigger.get_next_fire_time(candidate, candidate + timedelta(seconds=1))
        if last is not None:
            return last
    return None


def is_due(expression: str, timezone: str, last_done: datetime | None, now: datetime) -> bool:
    """Due when the schedule fired since the job last ran (or it never ran and has fired)."""
    fired = last_fire_time(cron_trigger(expression, timezone), now)
    if fired is None:
        return False
    return last_done is None or last_done < fired
