"""The per-run flags lychee users expect: they win over the config; bad values say what is wrong."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from linkfresh.config.accept import parse_accept, parse_status_range
from linkfresh.config.ignore_file import parse_ignore_file
from linkfresh.context import AppContext
from linkfresh.terminal import color_enabled, progress_enabled
from tests.cli import run_cli
from tests.configs import write_config
from tests.schemas import valid_document
from tests.servers import LocalServer, Reply, html_page


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("text", "codes"), [
    ("429", [429]), ("200..=204", [200, 201, 202, 203, 204]), ("200..203", [200, 201, 202]),
    ("..=101", [100, 101]), ("998..", [998, 999]),
])
def test_status_ranges_as_lychee_writes_them(text: str, codes: list[int]) -> None:
    assert list(parse_status_range(text)) == codes


def test_accept_lists_mix_codes_and_ranges() -> None:
    assert parse_accept(["200..=202, 429", 999, "429"]) == [200, 201, 202, 429, 999]


@pytest.mark.parametrize("text", ["abc", "99", "1000", "300..=200", "200..200", "2xx", "..="])
def test_bad_status_ranges_say_what_is_wrong(text: str) -> None:
    with pytest.raises(ValueError, match=r"status|range"):
        parse_status_range(text)


def test_ignore_file_skips_blanks_and_comments_and_names_a_bad_line() -> None:
    assert parse_ignore_file("# local\n\n^https://a\\.example/\n  x\\.org  \n") == [
        "^https://a\\.example/", "x\\.org"]
    with pytest.raises(ValueError, match=r"\.linkfreshignore:2: '\(' is not a valid"):
        parse_ignore_file("ok\n(\n")


def test_no_color_wins_over_a_terminal() -> None:
    assert color_enabled(FakeTTY(), {})
    assert not color_enabled(FakeTTY(), {"NO_COLOR": "1"})
    assert color_enabled(FakeTTY(), {"NO_COLOR": ""})  # no-color.org: set and not empty
    assert not color_enabled(io.StringIO(), {})
    assert progress_enabled(FakeTTY())
    assert not progress_enabled(FakeTTY(), progress=False)
    assert not progress_enabled(FakeTTY(), quiet=1)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         new_server: Callable[[], LocalServer]) -> tuple[Path, LocalServer]:
    server = new_server()
    monkeypatch.chdir(tmp_path)
    write_config(tmp_path, check={"exclude": ["/never/"], "accept": [999]})
    return tmp_path, server


def guide(folder: Path, *urls: str) -> str:
    body = "\n".join(f"- [link {n}]({url})" for n, url in enumerate(urls))
    (folder / "guide.md").write_text(f"# Guide\n\n{body}\n")
    return "guide.md"


def states(out: str) -> dict[str, str]:
    document = valid_document(out, "check")
    return {result["url"]: result["state"] for result in document["results"]}


def test_exclude_accept_and_ignore_file_add_to_the_config(
    site: tuple[Path, LocalServer], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, server = site
    limited = server.route("/flags/limited", Reply(429))
    teapot = server.route("/flags/teapot", Reply(418))
    mine = server.route("/flags/mine/1", Reply(404))
    never = server.route("/never/x", Reply(404))
    ignored = server.route("/flags/ignored", Reply(404))
    name = guide(folder, limited, teapot, mine, never, ignored)
    (folder / ".linkfreshignore").write_text("# links we know about\n/flags/ignored$\n")
    result = run_cli(capsys, "check", name, "--no-db", "--json", "--accept", "200..=204,429",
                     "--accept", "418", "--exclude", "/mine/", "--exclude", "^nothing$")
    assert result.code == 0, result.out
    got = states(result.out)
    assert got[limited] == "ok" and got[teapot] == "ok"  # accepted: no retries of the 429
    assert server.count("/flags/limited") == 1
    assert got[mine] == got[never] == got[ignored] == "skipped"
    assert server.count("/flags/mine/1") == server.count("/never/x") == 0


def test_flags_override_config_and_environment(
    site: tuple[Path, LocalServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKFRESH_CHECK__CONCURRENCY", "8")
    app = AppContext()
    assert app.settings.check.concurrency == 8 and app.settings.check.accept == [999]
    app.override_check(concurrency=3, connect_timeout=0.25, read_timeout=0.25,
                       accept=parse_accept(["400..=401"]), exclude=["/x/"])
    check = app.settings.check
    assert check.concurrency == 3 and check.read_timeout == check.connect_timeout == 0.25
    assert check.accept == [400, 401]  # replaces the config's list, as lychee's --accept does
    assert check.exclude == ["/never/", "/x/"]


def test_timeout_flag_times_a_slow_link_out(
    site: tuple[Path, LocalServer], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, server = site
    slow = server.route("/flags/slow", Reply(200, body=b"late", delay=1.0))
    result = run_cli(capsys, "check", guide(folder, slow), "--no-db", "--json",
                     "--timeout", "0.2", "--max-concurrency", "2")
    assert states(result.out)[slow] == "timeout"


@pytest.mark.parametrize(("args", "message"), [
    (["--exclude", "("], "not a valid regular expression"),
    (["--accept", "200..=abc"], "not a status or a range"),
    (["--timeout", "0"], "--timeout"),
    (["--max-concurrency", "0"], "--max-concurrency"),
])
def test_bad_flag_values_exit_2_naming_the_flag(
    site: tuple[Path, LocalServer], capsys: pytest.CaptureFixture[str], args: list[str],
    message: str,
) -> None:
    result = run_cli(capsys, "check", "guide.md", *args)
    assert result.code == 2 and message in result.err


def test_bad_ignore_file_exits_2_naming_the_line(
    site: tuple[Path, LocalServer], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, server = site
    (folder / ".linkfreshignore").write_text("fine\n[unclosed\n")
    result = run_cli(capsys, "check", guide(folder, server.url("/x")), "--no-db")
    assert result.code == 2 and ".linkfreshignore:2:" in result.err


def test_quiet_levels(site: tuple[Path, LocalServer], capsys: pytest.CaptureFixture[str]) -> None:
    folder, server = site
    dead = server.route("/flags/q-dead", Reply(404))
    name = guide(folder, server.route("/flags/q-ok", html_page("Fine")), dead)
    (folder / "guide.md").write_bytes((folder / "guide.md").read_bytes() + b"caf\xe9\n")
    loud = run_cli(capsys, "check", name, "--no-db")
    assert "linkfresh check" in loud.out and "warning" in loud.err  # table; cp1252 warning
    quiet = run_cli(capsys, "check", name, "--no-db", "-q")
    assert quiet.code == 1 and quiet.err == ""
    assert dead in quiet.out and "2 links: 1 broken, 1 ok in 1 guide" in quiet.out
    assert "linkfresh check" not in quiet.out  # no summary table
    silent = run_cli(capsys, "-q", "check", name, "--no-db", "-q")
    assert (silent.code, silent.out, silent.err) == (1, "", "")


def test_no_color_report_has_no_escapes(
    site: tuple[Path, LocalServer], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, server = site
    name = guide(folder, server.route("/flags/c-dead", Reply(404)))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    colored = run_cli(capsys, "check", name, "--no-db")
    monkeypatch.setenv("NO_COLOR", "1")
    plain = run_cli(capsys, "check", name, "--no-db")
    assert "\x1b[" in colored.out and "\x1b[" not in plain.out


def test_guide_on_stdin(
    site: tuple[Path, LocalServer], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, server = site
    ok = server.route("/flags/stdin", html_page("Fine"))
    text = f"# Piped\n\n- [piped]({ok})\n".encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text)))
    listed = valid_document(run_cli(capsys, "links", "-", "--json").out, "links")
    assert listed["links"][0]["places"][0]["guide"] == "<stdin>"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text)))
    checked = run_cli(capsys, "check", "-", "--no-db", "--json")
    assert checked.code == 0 and states(checked.out) == {ok: "ok"}
    twice = run_cli(capsys, "check", "-", "-", "--no-db")
    assert twice.code == 2 and "can be given once" in twice.err


def test_help_shows_no_type_placeholders_and_keeps_brackets(
    capsys: pytest.CaptureFixture[str],
) -> None:
    top = run_cli(capsys, "--help").out
    assert "<bool>" not in top and "<int>" not in top
    assert "--install-completion" in top and "--show-completion" in top
    assert "[schedule] cron strings" in run_cli(capsys, "serve", "--help").out
    for command in ("links", "check", "digest", "status", "history", "run", "collect"):
        text = run_cli(capsys, command, "--help").out
        assert "<bool>" not in text and "<list[" not in text and "<str>" not in text, command
    assert "--json" in run_cli(capsys, "status", "--help").out
    assert "--format" in run_cli(capsys, "status", "--help").out


def test_shell_completion_completes_commands_and_choices(tmp_path: Path) -> None:
    linkfresh = Path(sys.executable).parent / "linkfresh"

    def complete(words: str, index: int) -> list[str]:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COMP_WORDS": words,
               "COMP_CWORD": str(index), "_LINKFRESH_COMPLETE": "complete_bash"}
        done = subprocess.run([str(linkfresh)], env=env, capture_output=True, text=True,
                              timeout=60, check=False)
        return done.stdout.split()

    assert complete("linkfresh ch", 1) == ["check"]
    assert complete("linkfresh check --format ", 3) == ["text", "markdown", "json", "github",
                                                        "junit"]
    script = subprocess.run([str(linkfresh), "--show-completion", "bash"], capture_output=True,
                            text=True, timeout=60, check=False).stdout
    assert "_LINKFRESH_COMPLETE=complete_bash" in script
