"""`links`, `fix` and `init` from the command line, including every kind of bad input."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from linkfresh import __version__
from linkfresh.config.bundled import bundled_guide_path, bundled_topics
from linkfresh.config.loader import load_settings
from linkfresh.context import AppContext, default_topics
from tests.cli import run_cli
from tests.schemas import valid_document

GUIDE = bundled_guide_path().read_bytes()


@pytest.fixture
def guide_copy(tmp_path: Path) -> Path:
    path = tmp_path / "guide.md"
    path.write_bytes(GUIDE)
    return path


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "--version").out.strip() == f"linkfresh {__version__}"
    result = run_cli(capsys, "--help")
    assert result.code == 0
    for command in ("links", "fix", "init"):
        assert command in result.out
    assert "--format" in run_cli(capsys, "links", "--help").out


def test_console_script_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "linkfresh", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.startswith("linkfresh ")


def test_links_on_the_bundled_guide_by_default(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no linkfresh.toml here
    result = run_cli(capsys, "links", "--format", "json")
    assert result.code == 0
    document = valid_document(result.out, "links")
    assert document["schema"] == "linkfresh.links" and document["schema_version"] == 1
    assert len(document["links"]) == 10
    first = document["links"][0]
    assert first["target"] == "https://www.deeplearningbook.org/"
    assert first["places"][0]["line"] == 35
    assert first["places"][0]["guide"] == "llms-learning-guide.md"
    assert "google.com/url" in first["places"][0]["written_url"]


def test_links_text_and_tsv(capsys: pytest.CaptureFixture[str], guide_copy: Path) -> None:
    text = run_cli(capsys, "links", str(guide_copy)).out
    assert "https://arxiv.org/abs/1706.03762  (unwrapped: google-url)" in text
    assert text.rstrip().endswith("10 links (10 occurrences)")
    rows = run_cli(capsys, "links", str(guide_copy), "--format", "tsv").out.splitlines()
    assert rows[0].split("\t")[:3] == ["target", "url", "kind"]
    assert len(rows) == 11


def test_duplicates_shown_once_with_all_places(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "d.md"
    path.write_text("# A\n[x](https://x.example/)\n\n# B\n<https://X.example/>\n")
    document = valid_document(run_cli(capsys, "links", str(path), "-f", "json").out, "links")
    (entry,) = document["links"]
    assert [(p["line"], p["section"]) for p in entry["places"]] == [(2, ["A"]), (5, ["B"])]


def test_fix_prints_a_diff_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], guide_copy: Path
) -> None:
    result = run_cli(capsys, "fix", str(guide_copy))
    assert result.code == 0
    assert result.out.startswith(f"--- a/{guide_copy}\n+++ b/{guide_copy}\n")
    assert '+          * **Book:** "Deep Learning"' in result.out
    assert guide_copy.read_bytes() == GUIDE
    assert run_cli(capsys, "fix", str(guide_copy), "--check").code == 1


def _changed_lines(before: bytes, after: bytes) -> list[tuple[bytes, bytes]]:
    old, new = before.split(b"\n"), after.split(b"\n")
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def test_fix_write_changes_only_link_targets(
    capsys: pytest.CaptureFixture[str], guide_copy: Path
) -> None:
    guide_copy.chmod(0o640)
    assert run_cli(capsys, "fix", str(guide_copy), "--write").code == 0
    after = guide_copy.read_bytes()
    changed = _changed_lines(GUIDE, after)
    assert len(changed) == 10
    for old, new in changed:
        # The only change on each line: "(https://www.google.com/...q=" removed before the target.
        assert (
            old.replace(b"https://www.google.com/url?sa=E&source=gmail&q=", b"").replace(
                b"https://www.google.com/search?q=", b""
            )
            == new
        )
    assert (
        b"(https://web.stanford.edu/\\~jurafsky/slp3/)" not in after
    )  # the text keeps its escape...
    assert (
        b"[https://web.stanford.edu/\\~jurafsky/slp3/](https://web.stanford.edu/~jurafsky/slp3/)"
        in after
    )
    assert guide_copy.stat().st_mode & 0o777 == 0o640
    # A second run changes nothing.
    assert run_cli(capsys, "fix", str(guide_copy), "--write").code == 0
    assert guide_copy.read_bytes() == after
    assert run_cli(capsys, "fix", str(guide_copy)).out == ""
    assert run_cli(capsys, "fix", str(guide_copy), "--check").code == 0


def test_fix_keeps_crlf_and_encoding(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "crlf.md"
    wrapped = "https://www.google.com/url?q=https%3A%2F%2Fx.example%2Fa"
    original = f"---\r\ntitle: Café\r\n---\r\n[x]({wrapped})  \r\n"
    path.write_bytes(original.encode("cp1252"))
    assert run_cli(capsys, "fix", str(path), "--write").code == 0
    assert path.read_bytes() == original.replace(
        "https://www.google.com/url?q=https%3A%2F%2Fx.example%2Fa", "https://x.example/a"
    ).encode("cp1252")


def test_fix_refuses_to_write_the_bundled_guide(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli(capsys, "fix", "--write")
    assert result.code == 2 and "read-only" in result.err
    assert bundled_guide_path().read_bytes() == GUIDE


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00"), "binary"),
    ],
    ids=["missing", "directory", "binary"],
)
def test_unreadable_guides_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, make, message: str
) -> None:
    path = tmp_path / "guide.md"
    make(path)
    for command in ("links", "fix"):
        result = run_cli(capsys, command, str(path))
        assert result.code == 2
        assert str(path) in result.err and message in result.err
        assert "Traceback" not in result.err


def test_huge_guide_is_refused_clearly(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: 50 MB without writing them
    result = run_cli(capsys, "links", str(path))
    assert result.code == 2 and "50.0 MiB is over the 20 MiB limit" in result.err


def test_non_utf8_guide_warns_and_falls_back(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "latin.md"
    path.write_bytes("# Caf\xe9\n\n[x](https://x.example/)\n".encode("latin-1"))
    result = run_cli(capsys, "links", str(path))
    assert result.code == 0
    assert "not valid UTF-8" in result.err and f"{path}:1" in result.err and "cp1252" in result.err
    assert "https://x.example/" in result.out


def test_empty_guide_lists_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "empty.md"
    path.write_text("")
    result = run_cli(capsys, "links", str(path))
    assert result.code == 0 and result.out.strip() == "0 links (0 occurrences)"


def test_init_writes_a_valid_commented_config(
    capsys: pytest.CaptureFixture[str],
    guide_copy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli(capsys, "init", str(guide_copy))
    assert result.code == 0
    text = (tmp_path / "linkfresh.toml").read_text()
    assert text.startswith("# linkfresh configuration")
    data = tomllib.loads(text)
    assert data["guides"] == ["guide.md"]
    settings, _ = load_settings(tmp_path / "linkfresh.toml", environ={})
    names = [topic.name for topic in settings.topics or []]
    assert "Understanding the Transformer Architecture" in names
    transformer = next(t for t in settings.topics or [] if t.name.startswith("Understanding the T"))
    assert "positional encoding" in transformer.keywords
    # written as arXiv will read it: a phrase's words ANDed, no quoted phrases
    assert "(ti:positional AND ti:encoding)" in transformer.arxiv_query
    assert '"' not in transformer.arxiv_query
    assert run_cli(capsys, "init", str(guide_copy)).code == 2  # exists: needs --force
    assert run_cli(capsys, "init", str(guide_copy), "--force").code == 0


def test_init_for_the_bundled_guide_uses_the_curated_topics(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_cli(capsys, "init").code == 0
    settings, _ = load_settings(tmp_path / "linkfresh.toml", environ={})
    assert len(settings.topics or []) >= 12 and len(settings.feeds or []) == 8
    # what init writes scores as the bundled list does: names and exclusions included
    assert settings.topics == bundled_topics()


def test_topics_come_from_the_guides_already_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The digest hands over the guides it parsed: they are not read (or parsed) again."""
    monkeypatch.chdir(tmp_path)
    guide = tmp_path / "guide.md"
    step = "1.  **Tokenizers:**\n\n      * **Topics:**\n          * Byte-pair encoding.\n"
    guide.write_text(f"# Guide\n\n{step}")
    app = AppContext()
    parsed = app.load_guides([guide])
    guide.write_text(f"# Guide\n\n{step.replace('Tokenizers', 'Edited since')}")
    assert [topic.name for topic in default_topics(app, [guide], parsed)] == ["Tokenizers"]
    assert [topic.name for topic in default_topics(app, [guide])] == ["Edited since"]
