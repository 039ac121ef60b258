"""The one JSON convention of every `--format json` / `--json` output.

Every document opens with `"schema": "linkfresh.<kind>"` and `"schema_version": <int>`;
its JSON Schema is docs/schemas/<kind>.schema.json. Times are UTC ISO 8601 ending in `Z`,
dates `YYYY-MM-DD`. New keys may appear within a version; renaming or removing one, or
changing its type, bumps the version.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

SCHEMA_PREFIX = "linkfresh."


def utc_iso(moment: datetime) -> str:
    """`2026-11-30T06:00:00Z`; a naive time is taken to be UTC already."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")


def plain_time(value: Any) -> Any:
    """A datetime or date as the convention writes it; anything else unchanged."""
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def json_document(kind: str, version: int, body: Mapping[str, Any]) -> str:
    """The document's text: the schema name and version first, then `body`, indented."""
    document = {"schema": SCHEMA_PREFIX + kind, "schema_version": version, **body}
    return json.dumps(document, indent=2, ensure_ascii=False, default=plain_time) + "\n"
