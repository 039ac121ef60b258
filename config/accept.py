"""Status-code selections as lychee writes them: `200..=204,429`, `..300`, `500..`, `999`.

Pure parsing; `CheckSettings.accept` holds the result as a sorted list of codes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MIN_STATUS = 100
MAX_STATUS = 999
_RANGE = re.compile(r"^(?P<start>\d+)?\.\.(?P<until>(?P<inclusive>=)?(?P<end>\d+))?$")


def parse_status_range(text: str) -> range:
    """One item: `429`, `200..=204` (inclusive), `200..205` (end excluded), `..300`, `500..`.

    Raises ValueError saying what is wrong with `text`.
    """
    item = text.strip()
    if item.isdigit():
        start = end = int(item)
    else:
        match = _RANGE.match(item)
        if match is None:
            raise ValueError(f"{item!r} is not a status or a range (e.g. 429, 200..=204)")
        start = int(match["start"]) if match["start"] else MIN_STATUS
        if match["until"] is None:
            end = MAX_STATUS
        else:
            end = int(match["end"]) - (0 if match["inclusive"] else 1)
    if start < MIN_STATUS or end > MAX_STATUS:
        raise ValueError(f"{item!r}: status codes run from {MIN_STATUS} to {MAX_STATUS}")
    if start > end:
        raise ValueError(f"{item!r}: the range is empty (its start is past its end)")
    return range(start, end + 1)


def parse_accept(values: Iterable[int | str]) -> list[int]:
    """Codes, and strings of comma-separated codes or ranges, as one sorted list of codes."""
    codes: set[int] = set()
    for value in values:
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a status code")
        if isinstance(value, int):
            codes.update(parse_status_range(str(value)))
            continue
        for item in str(value).split(","):
            if item.strip():
                codes.update(parse_status_range(item))
    return sorted(codes)
