"""Opening the configured database and taking the run lock, with errors as exit codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from linkfresh.context import AppContext
from linkfresh.exitcodes import ExitCode, Fail
from linkfresh.storage.engine import MissingDriver
from linkfresh.storage.lock import LockHeld, run_lock
from linkfresh.storage.migrations import SchemaError, open_database


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


@contextmanager
def opened(app: AppContext) -> Iterator[Engine]:
    """The configured database, created or upgraded as needed; bad ones exit 2."""
    url = app.database_url()
    try:
        engine = open_database(url)
    except (SchemaError, MissingDriver, SQLAlchemyError, ArgumentError) as error:
        raise Fail(f"database {_shown(url)}: {error}", ExitCode.USAGE) from None
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def existing(app: AppContext) -> Iterator[Engine | None]:
    """The configured database if it exists (None when its SQLite file is not there yet):
    for commands that only read, so that they never create an empty database."""
    url = app.database_url()
    parsed = make_url(url)
    is_file = parsed.get_backend_name() == "sqlite" and parsed.database not in (
        None, "", ":memory:")
    if is_file and not Path(str(parsed.database)).exists():
        yield None
        return
    with opened(app) as engine:
        yield engine


@contextmanager
def locked(engine: Engine, kind: str,
           clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Iterator[None]:
    """Hold the run lock for `kind`; a second run exits 4 naming the holder."""
    try:
        with run_lock(engine, clock(), kind=kind):
            yield
    except LockHeld as held:
        raise Fail(str(held), ExitCode.LOCKED) from None
