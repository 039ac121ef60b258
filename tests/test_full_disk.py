"""A full disk under the database or the reports folder (issue 13, item 4): one line, exit 6,
the run marked failed, the lock released, the database intact.

The disk is a real small tmpfs (see tests/filesystems.py), filled with a file of zeros.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from linkfresh.exitcodes import ExitCode
from tests.cli import Outcome, run_cli
from tests.configs import write_config
from tests.filesystems import fill, small_disk
from tests.servers import LocalServer, html_page

NewServer = Callable[[], LocalServer]


def one_line(outcome: Outcome) -> None:
    assert outcome.code == ExitCode.STORAGE, outcome
    assert "Traceback" not in outcome.err and outcome.err.count("\n") == 1, outcome.err
    assert any(words in outcome.err
               for words in ("No space left on device", "disk is full", "disk I/O error"))


def state(database: Path) -> tuple[str, list[tuple[str, str]], int]:
    """(integrity check, (kind, outcome) of every run, lock rows)."""
    with sqlite3.connect(database) as db:
        return (db.execute("PRAGMA integrity_check").fetchone()[0],
                db.execute("SELECT kind, outcome FROM run ORDER BY id").fetchall(),
                db.execute("SELECT count(*) FROM run_lock").fetchone()[0])


def guide(folder: Path, server: LocalServer, count: int) -> None:
    lines = ["# Guide", ""]
    lines += [f"- [page {n}]({server.route(f'/disk/{n}', html_page(f'Page {n}'))})"
              for n in range(count)]
    (folder / "guide.md").write_text("\n".join(lines) + "\n")


def test_a_full_reports_folder(
    tmp_path: Path, new_server: NewServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    guide(tmp_path, new_server(), 3)
    monkeypatch.chdir(tmp_path)
    with small_disk(tmp_path / "reports", "64k") as reports:
        write_config(tmp_path, guides=["guide.md"], reports_dir=str(reports), topics=[],
                     feeds=[], tables={"digest": {"archive_lookup": False}})
        fill(reports)
        outcome = run_cli(capsys, "digest")
    one_line(outcome)
    assert str(tmp_path / "reports") in outcome.err
    assert state(tmp_path / "linkfresh.db") == ("ok", [("digest", "failed")], 0)


def test_a_full_database_disk(
    tmp_path: Path, new_server: NewServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    guide(tmp_path, new_server(), 400)
    monkeypatch.chdir(tmp_path)
    with small_disk(tmp_path / "data", "4m") as data:
        write_config(tmp_path, guides=["guide.md"], database=f"sqlite:///{data / 'lf.db'}")
        first = run_cli(capsys, "check")
        assert first.code == 0, first.err
        filler = fill(data, leave=192 * 1024)  # room to start, not to finish
        outcome = run_cli(capsys, "check", "--full")
        filler.unlink()
        one_line(outcome)
        assert f"database sqlite:///{data / 'lf.db'}: cannot write" in outcome.err
        integrity, runs, locks = state(data / "lf.db")
    assert integrity == "ok" and locks == 0
    assert runs == [("check", "ok"), ("check", "failed")]


def test_a_check_report_onto_a_full_disk_goes_to_stdout_instead(
    tmp_path: Path, new_server: NewServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    guide(tmp_path, new_server(), 2)
    write_config(tmp_path, guides=["guide.md"])
    monkeypatch.chdir(tmp_path)
    with small_disk(tmp_path / "out", "64k") as out:
        fill(out)
        outcome = run_cli(capsys, "check", "--no-db", "-f", "json", "-o", str(out / "report.txt"))
    one_line(outcome)
    assert str(tmp_path / "out" / "report.txt") in outcome.err
    assert "/disk/0" in outcome.out and "/disk/1" in outcome.out
