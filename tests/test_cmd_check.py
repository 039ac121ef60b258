"""`linkfresh check` end to end: exit codes 0/1/2/3, JSON output, and the bundled guide offline."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from linkfresh.cli import main
from linkfresh.collector.web import client as http
from tests.configs import write_config
from tests.schemas import valid_document
from tests.servers import LocalServer, Reply, closed_port, html_page

NewServer = Callable[[], LocalServer]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stopped:
        main(args)
    out, err = capsys.readouterr()
    return int(stopped.value.code or 0), out, err


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_config(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def guide(folder: Path, *urls: str, name: str = "guide.md") -> str:
    lines = ["# Guide", "", "## Phase 1", ""]
    lines += [f"- [link {n}]({url})" for n, url in enumerate(urls)]
    (folder / name).write_text("\n".join(lines) + "\n")
    return name


def test_all_ok_exits_0(workdir: Path, new_server: NewServer, capsys) -> None:  # type: ignore[no-untyped-def]
    server = new_server()
    name = guide(workdir, server.route("/fine", html_page("Fine")), "mailto:a@example.com")
    code, out, _ = run(["check", name], capsys)
    assert code == 0
    assert "ok" in out and "skipped" in out


def test_dead_link_exits_1_with_json(workdir: Path, new_server: NewServer, capsys) -> None:  # type: ignore[no-untyped-def]
    server = new_server()
    dead = server.route("/dead", Reply(404))
    name = guide(workdir, server.route("/alive", html_page("Alive")), dead)
    code, out, _ = run(["check", name, "--format", "json"], capsys)
    assert code == 1
    document = valid_document(out, "check")
    assert document["schema_version"] == 1 and document["network_down"] is False
    assert document["summary"]["broken"] == 1 and document["summary"]["ok"] == 1
    [broken] = [r for r in document["results"] if r["state"] == "broken"]
    assert broken["url"] == dead and broken["status"] == 404
    assert broken["occurrences"][0]["line"] == 6
    assert broken["occurrences"][0]["section"] == ["Guide", "Phase 1"]


def test_fail_on_unverified_and_redirect(workdir: Path, new_server: NewServer, capsys) -> None:  # type: ignore[no-untyped-def]
    server = new_server()
    server.route("/new", html_page("New"))
    walled = server.route("/walled", Reply(403))
    moved = server.route("/old", Reply(301, {"Location": "/new"}))
    name = guide(workdir, walled, moved)
    assert run(["check", name], capsys)[0] == 0  # unverified and redirected do not fail
    assert run(["check", name, "--fail-on", "unverified"], capsys)[0] == 1
    assert run(["check", name, "--fail-on", "redirect"], capsys)[0] == 1


def test_output_file(workdir: Path, new_server: NewServer, capsys) -> None:  # type: ignore[no-untyped-def]
    server = new_server()
    name = guide(workdir, server.route("/o", html_page("O")))
    code, out, _ = run(["check", name, "-f", "json", "-o", "report.json"], capsys)
    assert code == 0 and out == ""
    assert json.loads((workdir / "report.json").read_text())["summary"]["ok"] == 1


def test_zero_links_exits_2(workdir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (workdir / "empty.md").write_text("# Nothing here\n\nJust text.\n")
    code, _, err = run(["check", "empty.md"], capsys)
    assert code == 2 and "no links found" in err


def test_missing_guide_exits_2(workdir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(["check", "nope.md"], capsys)[0] == 2


def test_network_down_exits_3_and_marks_nothing_broken(workdir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    hosts = [f"127.0.2.{n}" for n in range(1, 5)]
    name = guide(workdir, *(f"http://{h}:{closed_port(h)}/x" for h in hosts))
    code, out, err = run(["check", name, "--format", "json"], capsys)
    assert code == 3 and "could not verify: network unreachable" in err
    document = valid_document(out, "check")
    assert document["network_down"] is True
    assert document["summary"]["broken"] == 0
    assert document["summary"]["unverified"] == len(hosts)


def test_bundled_guide_offline_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def offline(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(http, "system_resolver", offline)
    write_config(tmp_path, fast=False, check={"dns_retry_pause": 0.01})
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["check"], capsys)
    assert code == 3
    assert "could not verify: network unreachable" in err
    assert "BROKEN" not in out


def test_ci_formats_from_the_command_line(workdir: Path, new_server: NewServer, capsys) -> None:  # type: ignore[no-untyped-def]
    import xml.etree.ElementTree as ElementTree

    server = new_server()
    dead = server.route("/gone", Reply(410))
    name = guide(workdir, server.route("/here", html_page("Here")), dead)
    code, out, _ = run(["check", name, "--format", "github"], capsys)
    assert code == 1
    assert f"::error file={name},line=6," in out and "gone" in out
    code, out, _ = run(["check", name, "--format", "junit"], capsys)
    suite = ElementTree.fromstring(out)
    assert code == 1 and len(suite.findall(".//failure")) == 1
    code, out, _ = run(["check", name, "--format", "markdown", "--output", "r.md"], capsys)
    assert code == 1 and out == ""
    assert dead in (workdir / "r.md").read_text()
