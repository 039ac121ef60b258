"""Opening the configured database and taking the run lock, with errors as exit codes.

A database error, when opening or later, reaches the user as the driver's reason (e.g.
"database is locked", "unable to open database file"), never with SQL or SQLAlchemy links;
a full or failing disk under it is exit 6 (`linkfresh.failures`).
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
from linkfresh.failures import os_failure, storage_failure
from linkfresh.storage.engine import MissingDriver
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
    if isinstance(error, NoSuchModuleError):
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


def _database_failure(error: BaseException, url: str) -> Fail:
    """A full or failing disk is exit 6; any other database error exit 2, in its own words."""
    failure = storage_failure(error, f"database {_shown(url)}")
    if failure is not None:
        return failure
    if isinstance(error, SchemaError):
        return Fail(f"database {_shown(url)}: {error}", ExitCode.USAGE)
    return Fail(f"database {_shown(url)}: {database_error_message(error)}", ExitCode.USAGE)


@contextmanager
def opened(app: AppContext) -> Iterator[Engine]:
    """The configured database, created or upgraded as needed; bad ones exit 2, and so
    does a database error while it is in use (the message names the database)."""
    url = app.database_url()
    try:
        engine = open_database(url)
    except MissingDriver as error:  # storage names the extra to install
        raise Fail(f"database {_shown(url)}: {error}", ExitCode.USAGE) from None
    except OSError as error:  # the SQLite file's folder cannot be created
        raise os_failure(error, f"database {_shown(url)}") from None
    except (SchemaError, SQLAlchemyError, ArgumentError) as error:
        raise _database_failure(error, url) from None
    try:
        yield engine
    except Fail:
        raise
    except SQLAlchemyError as error:
        raise _database_failure(error, url) from None
    except Exception as error:  # a full disk under the database: say which database
        failure = storage_failure(error, f"database {_shown(url)}")
        if failure is None or isinstance(error, OSError):
            raise
        raise failure from None
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
