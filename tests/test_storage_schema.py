"""Tables, unique keys, pragmas and schema versions against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from linkfresh.storage.engine import open_engine
from linkfresh.storage.migrations import SCHEMA_VERSION, SchemaError, ensure_schema, open_database
from tests.storage_helpers import database


def test_fresh_database_has_every_table_and_its_version(db_url: str) -> None:
    engine = database(db_url)
    names = set(inspect(engine).get_table_names())
    assert {"meta", "guide", "occurrence", "resource", "check_result", "run", "run_lock",
            "topic", "paper", "paper_topic", "post", "post_topic", "source_run"} <= names
    with engine.connect() as conn:
        version = conn.execute(text("select value from meta where name='schema_version'"))
        assert version.scalar_one() == str(SCHEMA_VERSION)
        if engine.dialect.name != "sqlite":
            return
        assert conn.exec_driver_sql("pragma journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("pragma foreign_keys").scalar_one() == 1
        assert conn.exec_driver_sql("pragma busy_timeout").scalar_one() >= 1000


@pytest.mark.parametrize("table, row", [
    ("resource", {"url": "https://a.example/", "first_seen": "2026-01-01", "verdict": "new",
                  "failures": 0, "flips": "[]"}),
    ("paper", {"arxiv_id": "2401.00001", "version": 1, "title": "t", "abs_url": "u",
               "published": "2026-01-01", "updated": "2026-01-01", "first_seen": "2026-01-01",
               "last_changed": "2026-01-01", "abstract": "", "authors": "[]",
               "categories": "[]"}),
    ("post", {"url": "https://b.example/p", "title": "t", "source": "s",
              "first_seen": "2026-01-01", "summary": ""}),
    ("topic", {"name": "RLHF", "section": "", "arxiv_query": "", "keywords": "[]"}),
])
def test_identity_keys_are_unique(db_url: str, table: str, row: dict[str, object]) -> None:
    engine = database(db_url)
    columns, marks = ", ".join(row), ", ".join(f":{k}" for k in row)
    statement = text(f"insert into {table} ({columns}) values ({marks})")
    with engine.begin() as conn:
        conn.execute(statement, row)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(statement, row)


def test_reopening_is_a_no_op(db_url: str) -> None:
    database(db_url).dispose()
    assert ensure_schema(database(db_url)) == SCHEMA_VERSION


def _add_note_column(conn) -> None:  # type: ignore[no-untyped-def]
    conn.exec_driver_sql("ALTER TABLE resource ADD COLUMN note TEXT")


def test_older_schema_is_upgraded_in_order(db_url: str) -> None:
    url = db_url
    open_database(url).dispose()  # a database at the current version
    engine = open_engine(url)
    found = ensure_schema(engine, target=SCHEMA_VERSION + 1,
                          migrations={SCHEMA_VERSION + 1: _add_note_column})
    assert found == SCHEMA_VERSION
    assert "note" in {c["name"] for c in inspect(engine).get_columns("resource")}
    with engine.connect() as conn:
        assert conn.execute(text("select value from meta")).scalar_one() == str(SCHEMA_VERSION + 1)


def test_failing_upgrade_leaves_the_database_as_it_was(db_url: str) -> None:
    url = db_url
    open_database(url).dispose()
    engine = open_engine(url)

    def broken_step(conn) -> None:  # type: ignore[no-untyped-def]
        _add_note_column(conn)
        conn.exec_driver_sql("SELECT * FROM no_such_table")

    with pytest.raises(Exception, match="no_such_table"):
        ensure_schema(engine, target=SCHEMA_VERSION + 1,
                      migrations={SCHEMA_VERSION + 1: broken_step})
    assert "note" not in {c["name"] for c in inspect(engine).get_columns("resource")}
    with engine.connect() as conn:
        assert conn.execute(text("select value from meta")).scalar_one() == str(SCHEMA_VERSION)


def test_newer_schema_is_refused_untouched(db_url: str) -> None:
    url = db_url
    engine = open_database(url)
    with engine.begin() as conn:
        conn.execute(text("update meta set value = :v"), {"v": str(SCHEMA_VERSION + 5)})
    with pytest.raises(SchemaError, match=r"newer than this linkfresh understands"):
        open_database(url)


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.sqlite'}"
    with open_engine(url).begin() as conn:
        conn.exec_driver_sql("create table notes (id integer primary key)")
    with pytest.raises(SchemaError, match="another application"):
        open_database(url)


def test_a_version_1_database_is_upgraded_step_by_step(db_url: str) -> None:
    """A version-1 database (before drift checks and workers) gets step 2 (`page_reference`),
    step 3 (each resource's host filled in, the lease columns, the round and host-slot
    tables) and step 4 (`guide.links_digest`); its rows are kept and it is stamped with the
    current version."""
    engine = database(db_url)
    with engine.begin() as conn:  # take it back to version 1
        conn.execute(text("DROP TABLE page_reference"))
        conn.execute(text("DROP TABLE host_slot"))
        conn.execute(text("DROP TABLE check_round"))
        conn.execute(text("DROP INDEX ix_resource_host"))
        conn.execute(text("DROP INDEX ix_resource_lease_owner"))
        for column in ("host", "checked_round", "lease_owner", "lease_until"):
            conn.execute(text(f"ALTER TABLE resource DROP COLUMN {column}"))
        conn.execute(text("ALTER TABLE guide DROP COLUMN links_digest"))
        conn.execute(text("insert into resource (url, first_seen, verdict, failures, flips) "
                          "values ('https://Docs.example:8443/a#b', '2026-01-01', 'ok', 0, '[]')"))
        conn.execute(text("update meta set value = '1' where name = 'schema_version'"))
    engine.dispose()
    engine = open_database(db_url)
    tables = set(inspect(engine).get_table_names())
    assert {"page_reference", "check_round", "host_slot"} <= tables
    assert "links_digest" in {column["name"] for column in inspect(engine).get_columns("guide")}
    with engine.connect() as conn:
        assert conn.execute(text("select host from resource")).scalar_one() == "docs.example"
        assert conn.execute(text("select value from meta where name = 'schema_version'")
                            ).scalar_one() == str(SCHEMA_VERSION) == "4"
    engine.dispose()
