"""Counted nouns for people: "1 link", "2 links", "1 guide". Pure."""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`count` and the noun in the form that number takes in English."""
    noun = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {noun}"
