"""Files linkfresh writes (digests, `check -o` reports, fixed guides): their mode, and a clear
exit 2 naming the path when one cannot be written."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from linkfresh.context import write_atomically
from tests.cli import run_cli
from tests.configs import write_config
from tests.servers import LocalServer, html_page

NewServer = Callable[[], LocalServer]


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_config(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_gets_the_umask_mode_and_an_old_one_keeps_its_own(
    tmp_path: Path, umask_022: None
) -> None:
    new = tmp_path / "new.md"
    write_atomically(new, b"x")
    assert mode(new) == 0o644
    os.umask(0o027)
    other = tmp_path / "other.md"
    write_atomically(other, b"x")
    assert mode(other) == 0o640
    new.chmod(0o600)
    write_atomically(new, b"y")
    assert mode(new) == 0o600 and new.read_bytes() == b"y"


def test_check_report_and_digest_are_0644_under_umask_022(
    workdir: Path, new_server: NewServer, umask_022: None, capsys: pytest.CaptureFixture[str]
) -> None:
    server = new_server()
    (workdir / "guide.md").write_text(f"# G\n\n- [a]({server.route('/m', html_page('M'))})\n")
    assert run_cli(capsys, "check", "guide.md", "--no-db", "-o", "report.txt").code == 0
    assert mode(workdir / "report.txt") == 0o644
    assert run_cli(capsys, "digest", "-o", "digest.md").code == 0
    assert mode(workdir / "digest.md") == 0o644
