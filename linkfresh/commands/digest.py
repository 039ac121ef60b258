"""`linkfresh digest`: write the digest for a period from what the database knows."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from linkfresh.commands.options import Json
from linkfresh.context import AppContext
from linkfresh.exitcodes import ExitCode, Fail
from linkfresh.stages.digest import DigestFormat, digest_stage
from linkfresh.stages.digest_build import digest_period
from linkfresh.store import locked, opened


def digest(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option(metavar="SPAN|DATE",
                          help="Start: a span before now (7d, 12h, 2w) or a date.")
    ] = "7d",
    until: Annotated[
        str | None, typer.Option(metavar="DATE",
                                 help="End: a date (inclusive) or a time; default now.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write here instead.")
    ] = None,
    output_format: Annotated[
        DigestFormat, typer.Option("--format", "-f", metavar="[markdown|json]",
                                     help="Output format.")
    ] = DigestFormat.MARKDOWN,
    as_json: Json = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing digest.")] = False,
) -> None:
    """Write the digest: reports/digest-YYYY-Www.md and reports/latest.md."""
    app: AppContext = ctx.obj
    if as_json:
        output_format = DigestFormat.JSON
    try:
        start, end = digest_period(since, until, datetime.now(UTC))
    except ValueError as error:
        raise Fail(str(error), ExitCode.USAGE) from None
    with opened(app) as engine, locked(engine, "digest"):
        path = digest_stage(app, engine, start, end, fmt=output_format, output=output,
                            force=force)
    if not app.quiet:
        print(f"wrote {path}", file=sys.stderr)
