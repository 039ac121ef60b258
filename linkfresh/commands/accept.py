"""`linkfresh accept URL...`: take a changed page, as last checked, as the link's reference."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy import Engine

from linkfresh.context import AppContext
from linkfresh.exitcodes import ExitCode, Fail
from linkfresh.storage.engine import reading
from linkfresh.storage.references import accept_page
from linkfresh.storage.status import find_resource
from linkfresh.store import existing, locked


def accept(
    ctx: typer.Context,
    urls: Annotated[list[str], typer.Argument(
        help="The link(s): normalised, as written in the guide, or its target.")],
) -> None:
    """Accept a link's new content: the page as last checked becomes its reference, and a
    link listed as changed is ok again."""
    app: AppContext = ctx.obj
    now = datetime.now(UTC)
    with existing(app) as engine:
        if engine is None:
            raise Fail("no database yet: run `linkfresh check` first", ExitCode.USAGE)
        with locked(engine, "accept"):
            _accept_all(engine, urls, now)


def _accept_all(engine: Engine, urls: list[str], now: datetime) -> None:
    for url in urls:
        with reading(engine) as conn:
            found = find_resource(conn, url)
        if found is None:
            raise Fail(f"{url}: not in the database (has `linkfresh check` run on a guide "
                       "that contains it?)", ExitCode.USAGE)
        page = accept_page(engine, found[0], now)
        if page is None:
            raise Fail(f"{found[1]}: no page to accept yet (it never answered with one)",
                       ExitCode.USAGE)
        print(f"accepted {found[1]}: {page.title or '(no title)'!r} is its reference now")
