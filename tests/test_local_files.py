"""Local links: GitHub slugs, anchors, resolving inside the repository, and `check` on them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from linkfresh.cli import main
from linkfresh.collector.check.local_files import (
    anchors,
    check_local_links,
    fragment_found,
    repository_root,
    resolve,
    slug,
)
from linkfresh.collector.guide.parse import parse_guide
from linkfresh.collector.types import LinkState
from tests.configs import write_config
from tests.servers import LocalServer, html_page

NOW = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.mark.parametrize(("heading", "expected"), [
    ("Getting Started", "getting-started"),
    ("What's new in v2.0?", "whats-new-in-v20"),
    ("`foo()` & bar_baz", "foo--bar_baz"),
    ("Ünïcödé Straße", "ünïcödé-straße"),
    ("emoji 🎉 party", "emoji--party"),
    ("a - b", "a---b"),
])
def test_slug_follows_github(heading: str, expected: str) -> None:
    assert slug(heading) == expected


def test_duplicate_headings_get_numbered_suffixes_and_ids_count() -> None:
    found = anchors(["Intro", "Intro", "Intro-1", "Intro"], ["custom-id"])
    assert found == {"intro", "intro-1", "intro-1-1", "intro-2", "custom-id"}
    assert fragment_found("Intro", found) and fragment_found("user-content-intro-2", found)
    assert fragment_found("custom%2Did", found) and not fragment_found("outro", found)


def test_a_guides_headings_and_html_anchors_are_collected() -> None:
    guide = parse_guide(
        '# Intro ![badge](b.svg)\n\n## Intro\n\n<a name="old-name"></a>\n\n'
        '<h3 id="explicit">X</h3>\n\ntext <span id="inline-id">y</span>\n'
    )
    assert anchors(guide.headings, guide.anchor_ids) == {
        "intro", "intro-1", "old-name", "explicit", "inline-id"}


def test_resolve_stays_inside_the_repository(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "docs").mkdir()
    guide = tmp_path / "docs" / "guide.md"
    assert repository_root(tmp_path / "docs") == tmp_path.resolve()
    root = tmp_path.resolve()
    assert resolve("other.md#x", guide, root).path == root / "docs" / "other.md"
    assert resolve("/README.md", guide, root).path == root / "README.md"
    assert resolve("my%20file.md?plain=1", guide, root).path == root / "docs" / "my file.md"
    outside = resolve("../../etc/passwd", guide, root)
    assert outside.path is None and "outside the repository" in (outside.skipped or "")
    assert resolve("#top", guide, root).fragment == "top"


def test_symlink_out_of_the_repository_is_never_read(tmp_path: Path) -> None:
    repo, secret = tmp_path / "repo", tmp_path / "secret"
    repo.mkdir()
    secret.mkdir()
    (repo / ".git").mkdir()
    (secret / "s.md").write_text("# Secret\n")
    (repo / "link").symlink_to(secret)
    guide_file = repo / "g.md"
    guide_file.write_text("[s](link/s.md#secret)\n")
    links = parse_guide(guide_file.read_text(), "g.md").links
    result = check_local_links(links, {"g.md": guide_file}, now=lambda: NOW, max_bytes=1 << 20)
    assert result["link/s.md#secret"].state is LinkState.SKIPPED


def make_repo(root: Path) -> Path:
    (root / ".git").mkdir()
    (root / "docs").mkdir()
    (root / "img").mkdir()
    (root / "img" / "a.png").write_bytes(b"\x89PNG")
    (root / "docs" / "other.md").write_text(
        "# Other\n\n## Setup\n\n## Setup\n\n<a id=\"pin\"></a>\n")
    (root / "docs" / "page.html").write_text('<html><body><h2 id="h2">x</h2></body></html>')
    (root / "code.py").write_text("print()\n")
    guide_file = root / "docs" / "guide.md"
    guide_file.write_text(
        "# Guide\n\n## Local links\n\n"
        "- [other](./other.md) [setup](other.md#setup-1) [pin](other.md#pin)\n"
        "- [img](../img/a.png) [docs](./) [top](#local-links) [page](page.html#h2)\n"
        "- [line](../code.py#L3) [root](/code.py)\n"
        "- [gone](./missing.md) [bad anchor](other.md#nowhere) [self](#nowhere-here)\n"
        "- [escape](../../../../outside.md)\n"
        "<!-- linkfresh-disable-next-line -->\n"
        "- [off](./disabled-missing.md)\n"
    )
    return guide_file


def test_check_local_links_verdicts(tmp_path: Path) -> None:
    guide_file = make_repo(tmp_path)
    links = parse_guide(guide_file.read_text(), "guide.md").links
    results = check_local_links(links, {"guide.md": guide_file}, now=lambda: NOW,
                                max_bytes=1 << 20)
    states = {url: result.state for url, result in results.items()}
    assert states == {
        "./other.md": LinkState.OK, "other.md#setup-1": LinkState.OK,
        "other.md#pin": LinkState.OK, "../img/a.png": LinkState.OK, "./": LinkState.OK,
        "#local-links": LinkState.OK, "page.html#h2": LinkState.OK,
        "../code.py#L3": LinkState.OK, "/code.py": LinkState.OK,
        "./missing.md": LinkState.BROKEN, "other.md#nowhere": LinkState.BROKEN,
        "#nowhere-here": LinkState.BROKEN, "../../../../outside.md": LinkState.SKIPPED,
        "./disabled-missing.md": LinkState.SKIPPED,
    }
    assert results["./missing.md"].detail == "no such file: docs/missing.md"
    assert "no heading or anchor #nowhere in docs/other.md" in (
        results["other.md#nowhere"].detail or "")
    assert "outside the repository" in (results["../../../../outside.md"].detail or "")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stopped:
        main(args)
    out, err = capsys.readouterr()
    return int(stopped.value.code or 0), out, err


@pytest.mark.parametrize("stateless", [True, False])
def test_check_reports_local_links_on_their_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    new_server: Callable[[], LocalServer], stateless: bool,
) -> None:
    guide_file = make_repo(tmp_path)
    with guide_file.open("a") as handle:
        handle.write(f"- [web]({new_server().route('/fine', html_page('Fine'))})\n")
    write_config(tmp_path)
    monkeypatch.chdir(tmp_path)
    args = ["check", "docs/guide.md", "--format", "json"] + (["--no-db"] if stateless else [])
    code, out, _ = run(args, capsys)
    assert code == 1
    document = json.loads(out)
    broken = {r["url"]: r for r in document["results"] if r["state"] == "broken"}
    assert set(broken) == {"./missing.md", "other.md#nowhere", "#nowhere-here"}
    assert broken["./missing.md"]["occurrences"][0]["line"] == 8
    assert document["summary"]["ok"] == 10


def test_a_guide_of_only_local_links_is_checked_not_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "g.md").write_text("# G\n\n[me](g.md) [gone](nope.md)\n")
    write_config(tmp_path)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["check", "g.md", "--no-db", "--format", "json"], capsys)
    assert code == 1
    assert json.loads(out)["summary"]["broken"] == 1


def test_local_results_never_sway_the_network_down_rule() -> None:
    from linkfresh.collector.check.netdown import network_down
    from linkfresh.collector.types import CheckResult

    unreachable = CheckResult("https://a.example/", LinkState.ERROR, NOW, error_class="no-host")
    local = CheckResult("./other.md", LinkState.OK, NOW, detail="found: other.md")
    assert network_down([unreachable], ())
    assert network_down([unreachable, local], ())


def test_one_relative_url_in_two_folders_is_broken_from_the_one_it_fails_in(
    tmp_path: Path,
) -> None:
    (tmp_path / ".git").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "g.md").write_text("[n](notes.md)\n")
    (tmp_path / "a" / "notes.md").write_text("# Notes\n")
    links = [link for folder in ("a", "b")
             for link in parse_guide("[n](notes.md)\n", f"{folder}/g.md").links]
    files = {f"{folder}/g.md": tmp_path / folder / "g.md" for folder in ("a", "b")}
    result = check_local_links(links, files, now=lambda: NOW, max_bytes=1 << 20)["notes.md"]
    assert result.state is LinkState.BROKEN
    assert result.detail == "no such file: b/notes.md (from b/g.md:1)"


def test_an_anchor_in_a_file_too_big_to_read_is_unverified_not_broken(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "big.md").write_text("# Big\n" + "x" * 2000)
    guide_file = tmp_path / "g.md"
    guide_file.write_text("[b](big.md#big)\n")
    links = parse_guide(guide_file.read_text(), "g.md").links
    result = check_local_links(links, {"g.md": guide_file}, now=lambda: NOW, max_bytes=1000)
    assert result["big.md#big"].state is LinkState.UNVERIFIED
    assert "limit" in (result["big.md#big"].detail or "")
