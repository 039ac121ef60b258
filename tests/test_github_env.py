"""`check` under GitHub Actions: the job summary, and annotations whose `file=` is relative
to the repository root ($GITHUB_WORKSPACE, else the git top level), not the path as typed."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from linkfresh.github import relative_to_root, repository_root
from tests.cli import run_cli
from tests.configs import write_config
from tests.servers import LocalServer, Reply, html_page


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         new_server: Callable[[], LocalServer]) -> tuple[Path, list[str]]:
    """A repository with its guide in docs/, the working folder docs/."""
    server = new_server()
    dead = server.route("/gh/dead", Reply(404))
    ok = server.route("/gh/ok", html_page("Fine"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text(f"# Guide\n\n- [ok]({ok})\n- [dead]({dead})\n")
    write_config(docs)
    monkeypatch.chdir(docs)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    return tmp_path, [ok, dead]


def test_step_summary_gets_the_markdown_report_appended(
    repo: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, (_, dead) = repo
    summary = root / "summary.md"
    summary.write_text("## Earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = run_cli(capsys, "check", "guide.md", "--no-db", "--format", "json")
    assert result.code == 1
    text = summary.read_text()
    assert text.startswith("## Earlier step\n### linkfresh check failed")
    assert dead in text and "2 links: 1 broken, 1 ok" in text


def test_annotations_name_the_file_from_the_workspace(
    repo: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, _ = repo
    monkeypatch.setenv("GITHUB_WORKSPACE", str(root))
    out = run_cli(capsys, "check", "guide.md", "--no-db", "--format", "github").out
    assert "::error file=docs/guide.md,line=4,title=Broken link::" in out
    junit = run_cli(capsys, "check", "guide.md", "--no-db", "--format", "junit").out
    assert 'file="docs/guide.md" line="4"' in junit


def test_annotations_fall_back_to_the_git_top_level(
    repo: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str],
) -> None:
    root, _ = repo
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    assert repository_root(root / "docs", {}) == root.resolve()
    out = run_cli(capsys, "check", "./guide.md", "--no-db", "--format", "github").out
    assert "::error file=docs/guide.md,line=4," in out


def test_names_that_are_no_file_below_the_root_stay_as_typed(tmp_path: Path) -> None:
    (tmp_path / "g.md").write_text("x")
    assert relative_to_root("g.md", tmp_path, tmp_path) == "g.md"
    assert relative_to_root("g.md", tmp_path, None) == "g.md"
    assert relative_to_root("<stdin>", tmp_path, tmp_path) == "<stdin>"
    assert relative_to_root(str(tmp_path / "g.md"), Path("/"), tmp_path / "sub") == str(
        tmp_path / "g.md")
