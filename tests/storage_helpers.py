"""Small builders for the storage tests: a database file, guides, links and results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, text

from linkfresh.collector.types import CheckResult, Guide, Link, LinkKind, LinkState
from linkfresh.storage.migrations import open_database

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def database(url: str) -> Engine:
    """The linkfresh database at `url` (the `db_url` fixture: SQLite or PostgreSQL)."""
    return open_database(url)


def sqlite_file(tmp_path: Path) -> str:
    """A SQLite database URL in `tmp_path`, for tests of what only SQLite files do."""
    return f"sqlite:///{tmp_path / 'linkfresh.db'}"


def intact(engine: Engine) -> bool:
    """SQLite's integrity check passes (other backends keep no file of their own to check)."""
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as conn:
        return conn.execute(text("pragma integrity_check")).scalar_one() == "ok"


def link(url: str, line: int = 1, *, guide: str = "guide.md", written: str | None = None,
         section: tuple[str, ...] = ("Phase 1", "Step 1"), text: str = "text") -> Link:
    return Link(url=url, target=url, written_url=written or url, text=text, guide=guide,
                line=line, section=section, kind=LinkKind.HTTP)


def guide(*links: Link, path: str = "guide.md") -> Guide:
    return Guide(path=path, title="A guide", front_matter={}, links=tuple(links), topics=(),
                 resources=(), steps=())


def result(url: str, state: LinkState, at: datetime, **extra: object) -> CheckResult:
    status = extra.pop("status", 200 if state in (LinkState.OK, LinkState.REDIRECTED) else 404)
    return CheckResult(url=url, state=state, checked_at=at, status=status, **extra)  # type: ignore[arg-type]


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
