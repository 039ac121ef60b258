"""Schema versions: a new database gets the current schema, an older one is upgraded step
by step in one transaction, a newer one is refused before anything is touched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import Connection, Engine, bindparam, inspect, select, text, update
from sqlmodel import SQLModel

from linkfresh.collector.guide.unwrap import host_of
from linkfresh.storage import models
from linkfresh.storage.engine import open_engine

SCHEMA_VERSION = 4
VERSION_KEY = "schema_version"

Step = Callable[[Connection], None]



def _page_references(connection: Connection) -> None:
    """2: `page_reference`, what each linked page was when added (for content drift)."""
    models.PageReference.__table__.create(connection)  # type: ignore[attr-defined]


def _workers(connection: Connection) -> None:
    """3: what workers share: a resource's host, round and lease; rounds; host slots."""
    for column in ("host VARCHAR NOT NULL DEFAULT ''", "checked_round INTEGER",
                   "lease_owner VARCHAR", "lease_until TIMESTAMP"):
        connection.execute(text(f"ALTER TABLE resource ADD COLUMN {column}"))
    connection.execute(text("CREATE INDEX ix_resource_host ON resource (host)"))
    connection.execute(text("CREATE INDEX ix_resource_lease_owner ON resource (lease_owner)"))
    models.CheckRound.__table__.create(connection)
    models.HostSlot.__table__.create(connection)
    table = models.Resource.__table__
    hosts = [{"rid": rid, "new_host": host_of(url)}
             for rid, url in connection.execute(select(table.c.id, table.c.url))]
    if hosts:
        connection.execute(update(table).where(table.c.id == bindparam("rid"))
                           .values(host=bindparam("new_host")), hosts)


def _guide_digest(connection: Connection) -> None:
    """4: `guide.links_digest`, so a run on an unchanged guide skips the occurrence diff."""
    connection.execute(text("ALTER TABLE guide ADD COLUMN links_digest VARCHAR"))


# Step N upgrades a version N-1 database to version N: plain DDL through the connection,
# portable SQL (SQLite and PostgreSQL); bump SCHEMA_VERSION with each new step.
MIGRATIONS: Mapping[int, Step] = {2: _page_references, 3: _workers, 4: _guide_digest}


class SchemaError(Exception):
    """The database cannot be used by this linkfresh; the message says why and what to do."""


def stored_version(connection: Connection) -> int | None:
    """The version recorded in the database, or None for an empty database."""
    if not inspect(connection).has_table(models.Meta.__tablename__):
        if inspect(connection).get_table_names():
            raise SchemaError("the database has tables but no linkfresh schema version; "
                              "is it another application's database?")
        return None
    value = connection.execute(
        select(models.Meta.value).where(models.Meta.name == VERSION_KEY)
    ).scalar_one_or_none()
    return None if value is None else int(value)


def _stamp(connection: Connection, version: int) -> None:
    table = models.Meta.__table__
    connection.execute(table.delete().where(table.c.name == VERSION_KEY))
    connection.execute(table.insert().values(name=VERSION_KEY, value=str(version)))


def ensure_schema(
    engine: Engine,
    *,
    target: int = SCHEMA_VERSION,
    migrations: Mapping[int, Step] = MIGRATIONS,
) -> int:
    """Create or upgrade the schema to `target`; returns the version found before (0 if new).

    Everything happens in one transaction: a failing step leaves the database as it was.
    `target` and `migrations` are parameters so tests can exercise an upgrade path.
    """
    with engine.begin() as connection:
        found = stored_version(connection)
        if found is None:
            SQLModel.metadata.create_all(connection)
            _stamp(connection, target)
            return 0
        if found > target:
            raise SchemaError(
                f"the database schema is version {found}, newer than this linkfresh "
                f"understands ({target}); upgrade linkfresh, or point `database` at another file"
            )
        for version in range(found + 1, target + 1):
            step = migrations.get(version)
            if step is None:
                raise SchemaError(f"no migration from schema {version - 1} to {version}")
            step(connection)
        if found != target:
            _stamp(connection, target)
        return found


def open_database(url: str) -> Engine:
    """Open (creating or upgrading as needed) the linkfresh database at `url`."""
    engine = open_engine(url)
    try:
        ensure_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine
