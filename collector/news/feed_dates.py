"""Feed dates read strictly (pure): a date naming a day, hour or offset that cannot exist is
dropped, never rolled over into another date as feedparser's own parsers do."""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz

# W3C-DTF / RFC 3339 (Atom's dates) and the ISO 8601 forms feeds use in RSS too.
_ISO = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:[Tt ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    r")?)?)?\s*(?P<zone>[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?"
)
# The numeric zone at the end of an RFC 822/2822 date: `+hhmm` (RFC 5322 §3.3).
_RFC822_ZONE = re.compile(r"([+-])(\d{2})(\d{2})\s*$")


def _zone(text: str | None) -> timezone:
    """A fixed offset; raises ValueError beyond ±23:59 (RFC 3339 §5.6 time-numoffset)."""
    if text is None or text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"UTC offset {text} does not exist")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if text[0] == "-" else offset)


def _iso(match: re.Match[str]) -> datetime:
    part = match.groupdict()
    fraction = (part["fraction"] or "0")[:6].ljust(6, "0")
    return datetime(int(part["year"]), int(part["month"] or 1), int(part["day"] or 1),
                    int(part["hour"] or 0), int(part["minute"] or 0), int(part["second"] or 0),
                    int(fraction), tzinfo=_zone(part["zone"]))


def _rfc822(text: str, fields: tuple[int, ...]) -> datetime:
    zone = _RFC822_ZONE.search(text)
    if zone and (int(zone[2]) > 23 or int(zone[3]) > 59):
        raise ValueError(f"UTC offset {zone[0].strip()} does not exist")
    year, month, day, hour, minute, second = fields[:6]
    offset = fields[9] or 0
    moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return moment - timedelta(seconds=offset)


def feed_date(raw: str | None, parsed: time.struct_time | None = None) -> datetime | None:
    """The moment a feed's date string names, in UTC, or None when it names none.

    ISO 8601 / RFC 3339 and RFC 822 dates are read here, strictly: month 13, February 30,
    hour 25 or an offset of +99:99 make the date None. Other formats feedparser knows come
    from its `parsed` value.
    """
    text = " ".join((raw or "").split())
    try:
        iso = _ISO.fullmatch(text)
        if iso:
            return _iso(iso).astimezone(UTC)
        fields = parsedate_tz(text)
        if fields is not None:
            return _rfc822(text, tuple(int(f or 0) for f in fields))
    except (ValueError, OverflowError):
        return None
    if parsed is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None
