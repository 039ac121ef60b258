"""Building the SQLAlchemy engine for a database URL, and the session helper storage uses.

SQLite and PostgreSQL (psycopg 3, the `postgres` extra) are tested; the backend-specific
code is the SQLite connect hook, and `exclusive` (one writer at a time for a transaction).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

DEFAULT_BUSY_TIMEOUT_MS = 10_000
# `postgresql://` (and Heroku-style `postgres://`) without a driver means psycopg 3, the
# driver of the `postgres` extra, whatever SQLAlchemy's own default is.
_DEFAULT_DRIVERS = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}
_EXTRAS = {"postgresql": "postgres"}


_BEGIN = "linkfresh_sqlite_begin"


class MissingDriver(Exception):
    """The database URL needs a driver that is not installed; `str()` says what to install."""


Db = Engine | Session
"""What storage functions accept: an engine (they commit) or a session (the caller commits)."""


def open_engine(url: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> Engine:
    """An engine for `url`; for SQLite, the file's folder is created and pragmas set on connect."""
    parsed = with_default_driver(make_url(url))
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed)
    except ImportError as error:  # not installed, or installed but unable to load
        backend = parsed.get_backend_name()
        extra = _EXTRAS.get(backend)
        driver = error.name or str(error)
        hint = (f"pip install 'linkfresh[{extra}]'" if extra
                else f"install the Python driver {driver!r}")
        raise MissingDriver(f"{backend} needs the driver {driver!r}, which is not "
                            f"installed; {hint}") from None
    if is_sqlite:
        _configure_sqlite(engine, busy_timeout_ms)
    return engine


def with_default_driver(url: URL) -> URL:
    """`url` with psycopg 3 as the driver of a `postgresql://` URL that names none."""
    if "+" not in url.drivername and url.drivername in _DEFAULT_DRIVERS:
        return url.set(drivername=_DEFAULT_DRIVERS[url.drivername])
    return url


def is_postgres(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "postgresql"


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite opens transactions lazily and never around DDL; take over BEGIN ourselves
        # (the SQLAlchemy-documented recipe) so migrations and batches are truly atomic.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Pages freed by thinning go back to the file system (`release_free_pages`) instead of
        # sitting in the file forever. SQLite takes this only before the first table is
        # created, and only before WAL is switched on; on an existing file it does nothing.
        cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
        # WAL: `status` can read while a run writes, and a kill -9 cannot tear a commit.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # `exclusive` asks for BEGIN IMMEDIATE: the write lock at once, so a read-then-write
        # transaction is never overtaken by another writer between its read and its write.
        connection.exec_driver_sql(connection.get_execution_options().get(_BEGIN, "BEGIN"))


@contextmanager
def session_scope(db: Db) -> Iterator[Session]:
    """A session on `db`: a new one committed at the end, or the caller's (only flushed)."""
    if isinstance(db, Session):
        yield db
        db.flush()
        return
    with Session(db, expire_on_commit=False) as session:
        yield session
        session.commit()


@contextmanager
def exclusive(engine: Engine, key: int | None = None) -> Iterator[Session]:
    """A write transaction that no other writer overtakes between its reads and its writes:
    on SQLite BEGIN IMMEDIATE (one writer at all); on PostgreSQL, with `key`, it also runs
    alone among those asking for the same key (a transaction advisory lock).

    For read-then-write work that several processes may start at once (syncing a guide).
    """
    bind = engine.execution_options(**{_BEGIN: "BEGIN IMMEDIATE"}) if not is_postgres(
        engine) else engine
    with Session(bind, expire_on_commit=False) as session:
        if key is not None and is_postgres(engine):
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        yield session
        session.commit()


@contextmanager
def reading(db: Db) -> Iterator[Connection]:
    """A connection for reads: a fresh one from an engine, or the session's own."""
    if isinstance(db, Session):
        yield db.connection()
        return
    with db.connect() as connection:
        yield connection


def release_free_pages(engine: Engine) -> None:
    """Give pages freed by large deletes back to the file system, now.

    SQLite only, and only for files created with auto_vacuum=INCREMENTAL (every file this
    engine creates); elsewhere it does nothing. Call it outside any transaction.
    """
    if engine.url.get_backend_name() != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        # executescript steps the pragma to completion; execute() would free a single page.
        # The checkpoint copies the shrunken database out of the WAL, so the file shrinks.
        driver.executescript("PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(PASSIVE);")
    finally:
        raw.close()


def sqlite_path(engine: Engine) -> Path | None:
    """The database file of a SQLite engine, else None."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)
