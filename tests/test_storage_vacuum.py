"""Database size: new SQLite files use incremental auto-vacuum, and thinning shrinks the file."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from linkfresh.collector.types import LinkState
from linkfresh.storage.engine import release_free_pages
from linkfresh.storage.runs import record_batch, thin
from linkfresh.storage.state import StateRules
from tests.storage_helpers import T0, database, result, sqlite_file

RULES = StateRules()


def test_new_database_uses_incremental_auto_vacuum(tmp_path: Path) -> None:
    engine = database(sqlite_file(tmp_path))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("pragma auto_vacuum").scalar_one() == 2  # incremental
        assert conn.exec_driver_sql("pragma journal_mode").scalar_one() == "wal"
    engine.dispose()


def test_file_shrinks_after_thinning(tmp_path: Path) -> None:
    engine = database(sqlite_file(tmp_path))
    path = tmp_path / "linkfresh.db"
    detail = "x" * 400  # bulk, so the freed pages are many
    for day in range(40):
        batch = [result(f"https://h{n}.example/p", LinkState.OK, T0 + timedelta(days=day),
                        detail=detail) for n in range(100)]
        record_batch(engine, None, batch, RULES)
    release_free_pages(engine)  # checkpoint, so the file holds everything written
    before = path.stat().st_size

    deleted = thin(engine, T0 + timedelta(days=40), timedelta(days=5))
    after = path.stat().st_size
    assert deleted > 3000
    assert after < before * 0.5, (before, after)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("pragma freelist_count").scalar_one() == 0
        assert conn.execute(text("pragma integrity_check")).scalar_one() == "ok"
    engine.dispose()


def test_release_with_nothing_freed_is_harmless(db_url: str) -> None:
    engine = database(db_url)
    release_free_pages(engine)  # nothing freed: fine
    assert thin(engine, T0, timedelta(days=1)) == 0
    engine.dispose()


def test_weekly_vacuum_after_thinning(tmp_path: Path) -> None:
    from linkfresh.storage.compact import vacuum_if_due

    engine = database(sqlite_file(tmp_path))
    now = T0 + timedelta(days=40)
    for day in range(40):
        batch = [result(f"https://h{n}.example/p", LinkState.OK, T0 + timedelta(days=day))
                 for n in range(50)]
        record_batch(engine, None, batch, RULES)
    assert thin(engine, now, timedelta(days=5)) > 0  # thinning ran the first VACUUM
    assert not vacuum_if_due(engine, now + timedelta(days=6))  # not again within a week
    assert vacuum_if_due(engine, now + timedelta(days=7, minutes=1))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("pragma freelist_count").scalar_one() == 0
        assert conn.execute(text("pragma integrity_check")).scalar_one() == "ok"
    engine.dispose()
