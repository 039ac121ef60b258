"""Every JSON output, produced for real, is valid against its schema in docs/schemas/."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli import run_cli
from tests.configs import write_config
from tests.golden_files import GOLDEN
from tests.schemas import KINDS, valid_document, validator
from tests.servers import LocalServer, Reply, html_page


@pytest.mark.parametrize("kind", KINDS)
def test_each_schema_is_a_valid_draft_2020_12_schema(kind: str) -> None:
    assert validator(kind).schema["properties"]["schema"] == {"const": f"linkfresh.{kind}"}


@pytest.mark.parametrize(("name", "kind"), [("e2e-check.json", "check"),
                                            ("e2e-digest.json", "digest"),
                                            ("digest.json", "digest")])
def test_golden_documents_are_valid(name: str, kind: str) -> None:
    valid_document((GOLDEN / name).read_text(encoding="utf-8"), kind)


def test_every_command_writes_one_convention(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    new_server: Callable[[], LocalServer],
) -> None:
    server = new_server()
    ok = server.route("/json/ok", html_page("Fine"))
    dead = server.route("/json/dead", Reply(404))
    server.route("/json/new", html_page("New"))
    moved = server.route("/json/old", Reply(301, {"Location": "/json/new"}))
    (tmp_path / "guide.md").write_text(
        f"# Guide\n\n## Step\n\n- [ok]({ok})\n- [dead]({dead})\n- [moved]({moved})\n")
    write_config(tmp_path, guides=["guide.md"], topics=[], feeds=[])
    monkeypatch.chdir(tmp_path)

    empty = valid_document(run_cli(capsys, "status", "--json").out, "status")
    assert empty["runs"] == [] and empty["daemon"] is None  # no database yet: still a document

    checked = run_cli(capsys, "check", "--json")
    assert checked.code == 1
    assert valid_document(checked.out, "check")["summary"]["broken"] == 1
    stateless = valid_document(run_cli(capsys, "check", "--no-db", "-f", "json").out, "check")
    assert stateless["summary"]["redirected"] == 1

    links = valid_document(run_cli(capsys, "links", "--json").out, "links")
    assert [entry["url"] for entry in links["links"]] == [ok, dead, moved]

    for flags in (["--json"], ["--format", "json"]):
        status = valid_document(run_cli(capsys, "status", *flags).out, "status")
        assert [run["kind"] for run in status["runs"]] == ["check"]
        history = valid_document(run_cli(capsys, "history", dead, *flags).out, "history")
        assert history["url"] == dead and history["entries"][0]["status"] == 404

    written = run_cli(capsys, "digest", "--json", "-o", "digest.json")
    assert written.code == 0, written.err
    digest = valid_document((tmp_path / "digest.json").read_text(encoding="utf-8"), "digest")
    assert digest["headline"]["links_checked"] == 3


def test_the_schemas_reject_what_breaks_the_convention() -> None:
    document = json.loads((GOLDEN / "e2e-check.json").read_text(encoding="utf-8"))
    for break_it in (
        lambda d: d.pop("schema_version"),
        lambda d: d.update(schema="linkfresh.links"),
        lambda d: d.update(started_at="2026-11-29T06:00:00+00:00"),  # times end in Z
        lambda d: d["results"][0].update(state="dead"),
        lambda d: d["results"][0].pop("occurrences"),
        lambda d: d["summary"].update(ok="3"),
    ):
        broken = copy.deepcopy(document)
        break_it(broken)
        assert list(validator("check").iter_errors(broken)), break_it
