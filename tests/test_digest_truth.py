"""The digest tells the truth about itself: an offline run, what was skipped, how to get an
editable guide, counted words, and database errors without SQL or SQLAlchemy links."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from linkfresh.collector.web import client as http
from linkfresh.config.bundled import bundled_guide_path
from linkfresh.reports.digest import build_digest, render_digest_markdown
from linkfresh.reports.digest_model import Coverage, GuidePlace, LinkUpdate, Period, UpdateKind
from linkfresh.reports.wording import plural
from linkfresh.store import database_error_message
from tests.cli import run_cli
from tests.configs import write_config
from tests.servers import LocalServer, html_page

END = datetime(2026, 11, 30, tzinfo=UTC)
PERIOD = Period(END - timedelta(days=7), END)
CHECKED = datetime(2026, 11, 29, 6, tzinfo=UTC)


def digest(coverage: Coverage | None, *, read_only: bool = False, checked: int = 0) -> str:
    update = LinkUpdate(UpdateKind.WRAPPER, "https://www.google.com/url?q=https://a.example/",
                        "https://a.example/", (GuidePlace("g.md", 3),), "google-url")
    return render_digest_markdown(build_digest(
        period=PERIOD, now=END, guides=["g.md"], links_checked=checked, to_update=[update],
        coverage=coverage, guide_read_only=read_only))


def test_offline_digest_says_the_network_was_down_and_what_was_skipped() -> None:
    text = digest(Coverage(checks=1, last_check_at=CHECKED, last_check="network-down"))
    assert "| none (network down) |" in text
    assert "**The network was down** at the last check (2026-11-29 06:00 UTC)" in text
    assert "Skipped: the collection of new papers and posts" in text
    assert "No collection ran" not in text


def test_a_collection_after_the_outage_is_not_called_skipped() -> None:
    text = digest(Coverage(checks=2, last_check_at=CHECKED, last_check="network-down",
                           collections=1, last_collect_at=CHECKED + timedelta(hours=1),
                           last_collect="ok"), checked=5)
    assert "**The network was down**" in text and "Skipped" not in text
    assert "| 5 |" in text  # links checked earlier in the week still count


def test_quiet_periods_are_named() -> None:
    assert "**No link check ran** in this period" in digest(Coverage())
    assert "**No collection ran** in this period" in digest(Coverage())
    healthy = digest(Coverage(checks=3, last_check_at=CHECKED, last_check="ok", collections=1,
                              last_collect_at=CHECKED, last_collect="ok"), checked=9)
    assert "> **" not in healthy
    assert "> **" not in digest(None, checked=9)  # not known: nothing claimed


def test_the_bundled_guide_gets_the_copy_guide_command() -> None:
    assert "`linkfresh init --copy-guide` writes an editable copy" in digest(None, read_only=True)
    assert "init --copy-guide" not in digest(None)


def test_counted_words() -> None:
    assert [plural(n, "link") for n in (0, 1, 2)] == ["0 links", "1 link", "2 links"]
    assert plural(1, "guide") == "1 guide" and plural(3, "entry", "entries") == "3 entries"


def test_links_and_check_count_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    new_server: Callable[[], LocalServer],
) -> None:
    server = new_server()
    (tmp_path / "g.md").write_text(f"# G\n\n- [one]({server.route('/one', html_page('1'))})\n")
    write_config(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert run_cli(capsys, "links", "g.md").out.endswith("1 link (1 occurrence)\n")
    out = run_cli(capsys, "check", "g.md", "--no-db").out
    assert "\n1 guide, " in out and "guide(s)" not in out


def test_init_copy_guide_gives_an_editable_guide_that_fix_can_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    refused = run_cli(capsys, "fix", "--write")
    assert refused.code == 2 and "linkfresh init --copy-guide" in refused.err
    made = run_cli(capsys, "init", "--copy-guide")
    assert made.code == 0, made.err
    copy = tmp_path / "llms-learning-guide.md"
    assert copy.read_bytes() == bundled_guide_path().read_bytes()
    assert os.stat(copy).st_mode & stat.S_IWUSR
    config = (tmp_path / "linkfresh.toml").read_text()
    assert 'guides = ["llms-learning-guide.md"]' in config and "[[feeds]]" in config
    assert "[[topics]]" in config and "Interpretability" in config  # the curated topics
    fixed = run_cli(capsys, "fix", "--write", "--no-redirects")
    assert fixed.code == 0, fixed.err
    assert "google.com/url" not in copy.read_text()
    again = run_cli(capsys, "init", "--copy-guide")
    assert again.code == 2 and "already exists" in again.err


def test_database_errors_name_the_reason_without_sql_or_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("not a folder")
    for database, reason in (
        (f"sqlite:///{tmp_path}/a-file/x.db", "File exists"),
        (f"sqlite:///{tmp_path}/a-file", "file is not a database"),
        ("postgresql+nosuchdriver://u@h/db", "no driver installed"),
        ("not a url", "not a database URL"),
    ):
        write_config(tmp_path, database=database)
        for command in (["digest"], ["check"]):  # the database is opened before any fetch
            result = run_cli(capsys, *command)
            assert result.code == 2, (database, command, result.err)
            assert reason in result.err, result.err
            for leak in ("sqlalche.me", "SQLAlchemy", "[SQL:", "Traceback"):
                assert leak not in result.err


def test_a_database_error_in_use_shows_the_drivers_reason(tmp_path: Path) -> None:
    import sqlite3

    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(Exception) as raised, engine.connect() as conn:
        conn.execute(text("select * from no_such_table where id = :id"), {"id": 1})
    message = database_error_message(raised.value)
    assert message == "no such table: no_such_table"
    assert database_error_message(sqlite3.OperationalError("database is locked")) == (
        "database is locked")


def test_offline_run_writes_a_truthful_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    async def offline(host: str, port: int) -> list[str]:
        import socket
        raise socket.gaierror(-3, "Temporary failure in name resolution")

    monkeypatch.setattr(http, "system_resolver", offline)
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, check={"allow_private": False}, topics=[], feeds=[],
                 tables={"digest": {"archive_lookup": False}})
    result = run_cli(capsys, "run", "--all")
    assert result.code == 3
    (path,) = (tmp_path / "reports").glob("digest-*.md")
    text = path.read_text()
    assert "none (network down)" in text and "**The network was down**" in text
    assert "Skipped: the collection of new papers and posts" in text
    assert "linkfresh init --copy-guide" in text
