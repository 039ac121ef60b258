"""Opening the configured database and taking the run lock, with errors as exit codes.

A database error, when opening or later, reaches the user as the driver's reason (e.g.
"database is locked", "unable to open database file"), never with SQL or SQLAlchemy links.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from linkfresh.context import AppContext
from linkfresh.exitcodes import ExitCode, Fail
from linkfresh.storage.lock import LockHeld, run_lock
from linkfresh.storage.migrations import SchemaError, open_database


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


_BACKGROUND = re.compile(r"\s*\(Background on this error at: [^)]*\)")
_DRIVER_PREFIX = re.compile(r"^\([\w.]+\)\s*")  # "(sqlite3.OperationalError) ..."


def database_error_message(error: BaseException) -> str:
    """What went wrong with the database, in the driver's words: the first line of its
    message, without the SQL statement, its parameters or "Background on this error at"."""
    if isinstance(error, NoSuchModuleError | ImportError):
        return f"no driver installed for this kind of database ({_first_line(error)})"
    if isinstance(error, ArgumentError):
        return "not a database URL (expected sqlite:///path.db or dialect+driver://...)"
    if isinstance(error, DBAPIError) and error.orig is not None:
        return _first_line(error.orig)
    return _first_line(error)


def _first_line(error: BaseException) -> str:
    text = str(error.args[0]) if error.args else str(error)
    text = _DRIVER_PREFIX.sub("", _BACKGROUND.sub("", text.split("\n", 1)[0]))
    return text.strip() or type(error).__name__


@contextmanager
def opened(app: AppContext) -> Iterator[Engine]:
    """The configured database, created or upgraded as needed; bad ones exit 2, and so
    does a database error while it is in use (the message names the database)."""
    url = app.database_url()
    try:
        engine = open_database(url)
    except SchemaError as error:
        raise Fail(f"database {_shown(url)}: {error}", ExitCode.USAGE) from None
    except (SQLAlchemyError, ImportError) as error:
        raise Fail(f"database {_shown(url)}: {database_error_message(error)}",
                   ExitCode.USAGE) from None
    except OSError as error:  # its folder cannot be made (a file is in the way, no rights)
        where = f" ({error.filename})" if error.filename else ""
        raise Fail(f"database {_shown(url)}: {error.strerror or error}{where}",
                   ExitCode.USAGE) from None
    try:
        yield engine
    except SQLAlchemyError as error:
        raise Fail(f"database {_shown(url)}: {database_error_message(error)}",
                   ExitCode.USAGE) from None
    finally:
        engine.dispose()


@contextmanager
def existing(app: AppContext) -> Iterator[Engine | None]:
    """The configured database if it exists (None when its SQLite file is not there yet):
    for commands that only read, so that they never create an empty database."""
    url = app.database_url()
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise Fail(f"database {url}: {database_error_message(error)}", ExitCode.USAGE) from None
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
