"""The one writer of test configs: `linkfresh.toml` with fast, loopback-friendly defaults.

Tests name only what they care about; `[check]` starts from `FAST_CHECK` (private addresses
allowed, sub-second timeouts, one quick retry) and `[arxiv]`, when given, from `FAST_ARXIV`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

FAST_CHECK: dict[str, Any] = {
    "allow_private": True,
    "connect_timeout": 0.5,
    "read_timeout": 0.5,
    "retries": 1,
    "backoff": 0.01,
    "dns_retry_pause": 0.01,
}
FAST_ARXIV: dict[str, Any] = {"delay": 0, "retries": 0, "backoff": 0, "timeout": 2}


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, Path):
        return json.dumps(str(value))
    if isinstance(value, Sequence):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    raise TypeError(f"no TOML for {value!r}")


def _table(values: Mapping[str, Any]) -> list[str]:
    return [f"{key} = {_value(value)}" for key, value in values.items()]


def config_text(
    *,
    check: Mapping[str, Any] | None = None,
    arxiv: Mapping[str, Any] | None = None,
    topics: Sequence[Mapping[str, Any]] | None = None,
    feeds: Sequence[Mapping[str, Any]] | None = None,
    tables: Mapping[str, Mapping[str, Any]] | None = None,
    fast: bool = True,
    **top: Any,
) -> str:
    """The TOML text. `top` holds top-level keys (`guides`, `database`, `reports_dir`, ...);
    `topics=[]` / `feeds=[]` write empty lists (no bundled ones); `tables` any other table
    (`digest`, `schedule`). With `fast=False`, `[check]` holds only what is given."""
    lines = _table(top)
    if topics is not None and not topics:
        lines.append("topics = []")
    if feeds is not None and not feeds:
        lines.append("feeds = []")
    check_values = {**(FAST_CHECK if fast else {}), **(check or {})}
    sections: dict[str, Mapping[str, Any]] = {}
    if check_values:
        sections["check"] = check_values
    if arxiv is not None:
        sections["arxiv"] = {**FAST_ARXIV, **arxiv}
    sections.update(tables or {})
    for name, values in sections.items():
        lines += ["", f"[{name}]", *_table(values)]
    for name, rows in (("topics", topics or ()), ("feeds", feeds or ())):
        for row in rows:
            lines += ["", f"[[{name}]]", *_table(row)]
    return "\n".join(lines) + "\n"


def write_config(folder: Path, *, name: str = "linkfresh.toml", **options: Any) -> Path:
    """Write `config_text(**options)` to `folder/name` and return its path."""
    path = folder / name
    path.write_text(config_text(**options), encoding="utf-8")
    return path
