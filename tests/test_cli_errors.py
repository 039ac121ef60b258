"""Every way a careless user can point linkfresh at something it cannot use ends in one
line naming the path or key, and exit 2; a bug ends in one line and exit 7 (issue 13, item 5).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from linkfresh.exitcodes import ExitCode
from tests.cli import Outcome, run_cli
from tests.configs import write_config
from tests.filesystems import read_only_folder
from tests.servers import LocalServer, html_page

NewServer = Callable[[], LocalServer]


def one_line(outcome: Outcome, code: int, *needles: str) -> None:
    """Exit `code` with one line on stderr that holds every needle, and no traceback."""
    assert outcome.code == code, outcome
    assert "Traceback" not in outcome.err and outcome.err.count("\n") <= 2, outcome.err
    for needle in needles:
        assert needle in outcome.err, outcome.err


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_server: NewServer) -> Path:
    server = new_server()
    (tmp_path / "guide.md").write_text(f"# G\n\n- [a]({server.route('/e', html_page('E'))})\n")
    write_config(tmp_path, guides=["guide.md"], topics=[], feeds=[],
                 tables={"digest": {"archive_lookup": False}})
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("target", "reason"), [
    ("missing/report.txt", "no such folder"),
    (".", "is a directory"),
])
def test_check_output_that_cannot_be_written_exits_2_before_checking(
    workdir: Path, target: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = run_cli(capsys, "check", "--no-db", "-o", target)
    one_line(outcome, ExitCode.USAGE, "--output", target.rstrip("/"), reason)


def test_check_output_into_a_read_only_folder_exits_2(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with read_only_folder(workdir / "ro") as folder:
        outcome = run_cli(capsys, "check", "--no-db", "-o", str(folder / "report.txt"))
    one_line(outcome, ExitCode.USAGE, str(workdir / "ro" / "report.txt"), "not writable")


def test_fix_write_in_a_read_only_folder_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    guide = tmp_path / "ro" / "guide.md"
    guide.parent.mkdir()
    guide.write_text("# G\n\n- [a](https://www.google.com/url?q=https://example.org/a)\n")
    with read_only_folder(guide.parent):
        outcome = run_cli(capsys, "fix", "--write", str(guide))
    one_line(outcome, ExitCode.USAGE, "guide", str(guide), "cannot write")
    assert "google.com/url" in guide.read_text()


def test_init_in_a_read_only_folder_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with read_only_folder(tmp_path / "ro") as folder:
        monkeypatch.chdir(folder)
        outcome = run_cli(capsys, "init")
        monkeypatch.chdir(tmp_path)
    one_line(outcome, ExitCode.USAGE, "linkfresh.toml", "cannot write")


def test_serve_log_file_in_a_missing_folder_exits_2(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = run_cli(capsys, "serve", "--log-file", "nowhere/serve.log")
    one_line(outcome, ExitCode.USAGE, "--log-file", "nowhere/serve.log", "No such file")


def test_an_unwritable_reports_dir_exits_2_naming_the_key(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with read_only_folder(workdir / "ro") as folder:
        write_config(workdir, guides=["guide.md"], topics=[], feeds=[],
                     reports_dir=str(folder / "reports"),
                     tables={"digest": {"archive_lookup": False}})
        outcome = run_cli(capsys, "digest")
    one_line(outcome, ExitCode.USAGE, "reports_dir", str(workdir / "ro" / "reports"))
    (workdir / "reports").write_text("a file where the folder should be")
    write_config(workdir, guides=["guide.md"], topics=[], feeds=[],
                 tables={"digest": {"archive_lookup": False}})
    one_line(run_cli(capsys, "digest"), ExitCode.USAGE, "reports_dir", "reports")


@pytest.mark.parametrize("command", ["run", "serve"])
@pytest.mark.parametrize("cron", ["99 99 * * *", "0 6 31 2 *x", "*/0 * * * *"])
def test_a_cron_string_that_cannot_fire_exits_2_naming_the_key(
    workdir: Path, command: str, cron: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config(workdir, guides=["guide.md"], tables={"schedule": {"collect": cron}})
    outcome = run_cli(capsys, command)
    one_line(outcome, ExitCode.USAGE, "linkfresh.toml: schedule.collect", repr(cron))
    assert not (workdir / "linkfresh.db").exists()


def test_postgresql_without_its_driver_exits_2_with_the_fix(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The drivers are made unimportable as they are on a machine without them: a module
    # set to None in sys.modules raises ImportError on import, as a missing one does.
    for module in ("psycopg", "psycopg2", "asyncpg", "pg8000"):
        monkeypatch.setitem(sys.modules, module, None)
    write_config(workdir, guides=["guide.md"], database="postgresql://u:secret@127.0.0.1/db")
    for command in ("check", "status", "run"):
        outcome = run_cli(capsys, command)
        one_line(outcome, ExitCode.USAGE, "database", "not installed",
                 "pip install 'linkfresh[postgres]'")
        assert "secret" not in outcome.err


def test_an_internal_error_is_one_line_naming_the_traceback_file(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import linkfresh.commands.guide as guide_command

    def broken(*_: object) -> None:
        raise RuntimeError("a bug nobody foresaw")

    # A bug has no real counterpart to provoke on purpose: one is put in by hand.
    monkeypatch.setattr(guide_command, "group_links", broken)
    crashes = tmp_path / "crashes"
    crashes.mkdir()
    monkeypatch.setenv("TMPDIR", str(crashes))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read $TMPDIR
    outcome = run_cli(capsys, "links")
    one_line(outcome, ExitCode.INTERNAL, "internal error", "a bug nobody foresaw")
    [report] = crashes.glob("linkfresh-crash-*.txt")
    assert str(report) in outcome.err
    text = report.read_text()
    assert "Traceback" in text and "RuntimeError: a bug nobody foresaw" in text
