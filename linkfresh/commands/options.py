"""Options several commands share: `-q`, `--no-progress`, `--json`, and the flags that set
`[check]` keys for one run (`--exclude`, `--accept`, `--timeout`, `--max-concurrency`)."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from linkfresh.config.accept import parse_accept


def _valid_patterns(patterns: list[str] | None) -> list[str] | None:
    for pattern in patterns or ():
        try:
            re.compile(pattern)
        except re.error as error:
            raise typer.BadParameter(
                f"{pattern!r} is not a valid regular expression: {error}") from None
    return patterns


def _valid_accept(values: list[str] | None) -> list[str] | None:
    try:
        parse_accept(values or ())
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    return values


Quiet = Annotated[int, typer.Option(
    "--quiet", "-q", count=True, show_default=False,
    help="Less output: -q drops warnings and progress bars (check: also its summary table; "
         "collect: the sources that worked; run: all but errors); -qq also check's text "
         "report (the exit code says it all).")]
NoProgress = Annotated[bool, typer.Option(
    "--no-progress", help="No progress bar, even on a terminal.")]
Json = Annotated[bool, typer.Option("--json", help="JSON output: the same as --format json.")]
Exclude = Annotated[list[str] | None, typer.Option(
    "--exclude", metavar="REGEX", callback=_valid_patterns, show_default=False,
    help="Do not check URLs matching this regular expression (repeatable; added to "
         "check.exclude and .linkfreshignore).")]
Accept = Annotated[list[str] | None, typer.Option(
    "--accept", metavar="CODES", callback=_valid_accept, show_default=False,
    help="Also count these statuses as ok: codes and ranges such as 200..=204,429 or 400..403 "
         "(end excluded); replaces check.accept.")]
Timeout = Annotated[float | None, typer.Option(
    "--timeout", metavar="SECONDS", min=0.001, show_default=False,
    help="Seconds to wait for a connection and for each read (check.connect_timeout and "
         "check.read_timeout).")]
MaxConcurrency = Annotated[int | None, typer.Option(
    "--max-concurrency", metavar="N", min=1, max=1024, show_default=False,
    help="Requests in flight at once (check.concurrency).")]


def check_flags(*, exclude: list[str] | None, accept: list[str] | None, timeout: float | None,
                max_concurrency: int | None) -> dict[str, object]:
    """The `[check]` keys the flags set (only those given) and the extra exclude patterns."""
    values: dict[str, object] = {"exclude": list(exclude or ())}
    if accept:
        values["accept"] = parse_accept(accept)
    if timeout is not None:
        values["connect_timeout"] = values["read_timeout"] = timeout
    if max_concurrency is not None:
        values["concurrency"] = max_concurrency
    return values
