"""`linkfresh run` against what a user may have done by hand, and its stages' own errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli import run_cli
from tests.configs import write_config
from tests.servers import LocalServer, html_page

NewServer = Callable[[], LocalServer]


def test_a_digest_written_by_hand_never_fails_the_scheduled_one(
    tmp_path: Path, new_server: NewServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = new_server()
    (tmp_path / "guide.md").write_text(f"# G\n\n- [a]({server.route('/d', html_page('D'))})\n")
    write_config(tmp_path, guides=["guide.md"], reports_dir="out", topics=[], feeds=[],
                 tables={"digest": {"archive_lookup": False}})
    monkeypatch.chdir(tmp_path)
    by_hand = run_cli(capsys, "digest")
    assert by_hand.code == 0, by_hand.err
    [written] = (tmp_path / "out").glob("digest-*.md")
    written.write_text(written.read_text() + "\nedited by hand\n")
    # The schedule fires after the digest by hand (as Monday 08:00 comes after a Sunday one):
    # dated back, the hand-made run leaves the stage due, for this very week's file.
    with sqlite3.connect(tmp_path / "linkfresh.db") as db:
        db.execute("UPDATE run SET started_at = '2000-01-01 00:00:00.000000'")
    scheduled = run_cli(capsys, "run")
    assert scheduled.code == 0, scheduled.err
    assert "already exists" not in scheduled.err
    assert "edited by hand" not in written.read_text()
    assert run_cli(capsys, "run").code == 0
