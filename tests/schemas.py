"""Validating linkfresh's JSON outputs against their published schemas (docs/schemas/)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "schemas"
KINDS = ("check", "links", "digest", "status", "history")


@cache
def validator(kind: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def valid_document(text: str, kind: str) -> dict[str, Any]:
    """Parse `text` and assert it is a valid `linkfresh.<kind>` document; returns it."""
    document = json.loads(text)
    errors = sorted(validator(kind).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
    assert document["schema"] == f"linkfresh.{kind}"
    assert isinstance(document["schema_version"], int)
    return document
