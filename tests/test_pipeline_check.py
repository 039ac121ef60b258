"""`linkfresh check` with the database: recorded, incremental, conditional, and safe offline."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect

from linkfresh.context import AppContext
from linkfresh.stages.check import check_stage
from linkfresh.storage.engine import open_engine
from linkfresh.storage.migrations import open_database
from linkfresh.storage.status import link_history, status_summary
from tests.cli import run_cli
from tests.configs import write_config
from tests.servers import LocalServer, Reply, closed_port, endless, html_page
from tests.storage_helpers import intact

NewServer = Callable[[], LocalServer]


@pytest.fixture
def workdir(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a config whose database is SQLite (`state.db` here) or PostgreSQL."""
    write_config(tmp_path, database="sqlite:///state.db" if db_url.startswith("sqlite")
                 else db_url)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def stored(workdir: Path) -> Engine:
    """The database the config in `workdir` names."""
    return open_database(AppContext(config_path=workdir / "linkfresh.toml").database_url())


def write_guide(folder: Path, *urls: str) -> str:
    lines = ["# Guide", ""] + [f"- [link {n}]({url})" for n, url in enumerate(urls)]
    (folder / "guide.md").write_text("\n".join(lines) + "\n")
    return "guide.md"


def test_second_check_skips_recently_ok_links_but_reports_them(
    workdir: Path, new_server: NewServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = new_server()
    fine = server.route("/inc/fine", html_page("Fine"))
    gone = server.route("/inc/gone", Reply(404))
    name = write_guide(workdir, fine, gone)
    first = run_cli(capsys, "check", name, "--format", "json")
    assert first.code == 1
    assert server.count("/inc/fine") == 1 and server.count("/inc/gone") >= 1
    gone_hits = server.count("/inc/gone")
    second = run_cli(capsys, "check", name, "--format", "json")
    assert second.code == 1 and '"state": "ok"' in second.out  # reported from the database
    assert server.count("/inc/fine") == 1  # not fetched again within recheck_after_hours
    assert server.count("/inc/gone") > gone_hits  # failing links are always rechecked
    assert run_cli(capsys, "check", name, "--full").code == 1
    assert server.count("/inc/fine") == 2
    engine = stored(workdir)
    history = link_history(engine, gone)
    # Three failures in a few seconds: failing, not yet broken (confirm_span_hours = 6).
    assert history is not None and history.verdict == "failing"
    summary = status_summary(engine, datetime.now(UTC), timedelta(hours=20))
    assert [run.kind for run in summary.runs] == ["check"] * 3
    assert all(run.outcome == "ok" for run in summary.runs)


def test_a_link_slow_last_time_is_started_first(
    workdir: Path, new_server: NewServer, capsys: pytest.CaptureFixture[str]
) -> None:
    with (workdir / "linkfresh.toml").open("a") as config:
        config.write("concurrency = 1\nper_host = 1\n")
    server = new_server()
    fast = [server.route(f"/lpt/fast{n}", html_page("Fast")) for n in range(3)]
    slow = server.route("/lpt/slow", Reply(200, {"Content-Type": "text/html"}, "<title>S</title>",
                                           delay=0.3))
    name = write_guide(workdir, *fast, slow)
    assert run_cli(capsys, "check", name).code == 0
    assert run_cli(capsys, "check", name, "--full").code == 0
    paths = [request.path for request in server.requests if request.path.startswith("/lpt/")]
    assert paths[:4] == ["/lpt/fast0", "/lpt/fast1", "/lpt/fast2", "/lpt/slow"]  # guide order
    assert paths[4] == "/lpt/slow"  # the slowest last time goes first
    assert sorted(paths[5:]) == ["/lpt/fast0", "/lpt/fast1", "/lpt/fast2"]


def test_conditional_request_304_counts_as_ok(
    workdir: Path, new_server: NewServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = new_server()

    def tagged(request) -> Reply:  # type: ignore[no-untyped-def]
        if request.headers.get("If-None-Match") == '"v1"':
            return Reply(304, {"ETag": '"v1"'})
        return Reply(200, {"ETag": '"v1"', "Content-Type": "text/html"}, "<title>T</title>")

    url = server.route("/etag/page", tagged)
    name = write_guide(workdir, url)
    assert run_cli(capsys, "check", name).code == 0
    assert run_cli(capsys, "check", name, "--full").code == 0
    conditional = [r for r in server.requests if r.path == "/etag/page"][-1]
    assert conditional.headers.get("If-None-Match") == '"v1"'


def test_network_down_changes_no_state(
    workdir: Path, new_server: NewServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = new_server()
    url = server.route("/down/page", html_page("Up"))
    name = write_guide(workdir, url)
    assert run_cli(capsys, "check", name).code == 0
    engine = stored(workdir)
    before = link_history(engine, url)
    # The same guide now points at hosts that refuse: every host fails at network level.
    refused = [f"http://127.0.3.{n}:{closed_port(f'127.0.3.{n}')}/x" for n in (1, 2)]
    write_guide(workdir, url.replace(str(server.port), str(closed_port(server.host))), *refused)
    down = run_cli(capsys, "check", name, "--full")
    assert down.code == 3 and "could not verify: network unreachable" in down.err
    after = link_history(engine, url)
    assert before is not None and after is not None
    assert after.entries == before.entries and after.verdict == before.verdict
    runs = status_summary(engine, datetime.now(UTC), timedelta(hours=20)).runs
    assert runs[0].outcome == "network-down"


# From `offload_from` due links on, a child process writes the results; both ways are run.
def test_a_link_added_to_the_guide_is_checked_in_the_next_run(
    workdir: Path, new_server: NewServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """The history is read before the guide is (it may be parsed in a child meanwhile): a
    guide whose links changed has it read again, so a new link is due at once."""
    server = new_server()
    old = server.route("/edit/old", html_page("Old"))
    new = server.route("/edit/new", html_page("New"))
    name = write_guide(workdir, old)
    assert run_cli(capsys, "check", name, "--format", "json").code == 0
    write_guide(workdir, old, new)
    second = run_cli(capsys, "check", name, "--format", "json")
    assert second.code == 0 and f'"url": "{new}"' in second.out
    assert (server.count("/edit/old"), server.count("/edit/new")) == (1, 1)
    write_guide(workdir, new)  # the old link leaves: not fetched, not reported
    third = run_cli(capsys, "check", name, "--format", "json", "--full")
    assert old not in third.out and server.count("/edit/new") == 2


WRITERS = pytest.mark.parametrize("offload_from", [1, 10**9], ids=["child", "in-process"])


@WRITERS
def test_a_check_records_states_and_events_either_way(
    workdir: Path, new_server: NewServer, offload_from: int
) -> None:
    server = new_server()
    fine = server.route("/either/fine", html_page("Fine"))
    gone = server.route("/either/gone", Reply(404))
    write_guide(workdir, fine, gone)
    app = AppContext()
    engine = open_database(app.database_url())
    for _ in range(2):
        stage = check_stage(app, engine, guides=[workdir / "guide.md"], full=True,
                            offload_from=offload_from)
        assert {i.result.url: i.result.state for i in stage.report.items} == {
            fine: "ok", gone: "broken"}
    summary = status_summary(engine, datetime.now(UTC), timedelta(hours=20))
    assert [run.outcome for run in summary.runs] == ["ok", "ok"]
    assert summary.runs[-1].counts == {"ok": 1, "broken": 1, "event:failing": 1}
    gone_history = link_history(engine, gone)
    assert gone_history is not None and len(gone_history.entries) == 2
    assert gone_history.verdict == "failing"
    assert intact(engine)


@WRITERS
def test_stop_mid_check_keeps_what_was_recorded(workdir: Path, new_server: NewServer,
                                                offload_from: int) -> None:
    server = new_server()
    fast = [server.route(f"/stop/fast{n}", html_page("Fast")) for n in range(3)]
    slow = server.route("/stop/slow", Reply(200, {"Content-Type": "text/html"}, delay=30))
    write_guide(workdir, *fast, slow)
    app = AppContext()
    engine = open_database(app.database_url())
    stop = threading.Event()

    def progress(result, done, total) -> None:  # type: ignore[no-untyped-def]
        if done == 3:
            stop.set()

    stage = check_stage(app, engine, guides=[workdir / "guide.md"], stop=stop, progress=progress,
                        offload_from=offload_from)
    assert stage.stopped
    summary = status_summary(engine, datetime.now(UTC), timedelta(hours=20))
    assert summary.runs[0].outcome == "interrupted"
    assert summary.verdicts.get("ok") == 3
    assert intact(engine)


def test_endless_body_is_capped_and_recorded(
    workdir: Path, new_server: NewServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = new_server()
    url = server.route("/cap/endless", Reply(200, {"Content-Type": "text/html"}, chunks=endless()))
    name = write_guide(workdir, url)
    assert run_cli(capsys, "check", name).code == 0
    engine = stored(workdir)
    history = link_history(engine, url)
    assert history is not None and history.verdict == "ok"


def test_no_db_writes_nothing(workdir: Path, new_server: NewServer,
                              capsys: pytest.CaptureFixture[str]) -> None:
    server = new_server()
    name = write_guide(workdir, server.route("/nodb/page", html_page("P")))
    assert run_cli(capsys, "check", name, "--no-db").code == 0
    assert not (workdir / "state.db").exists()
    url = AppContext(config_path=workdir / "linkfresh.toml").database_url()
    assert inspect(open_engine(url)).get_table_names() == []  # PostgreSQL: nothing created


def test_fix_applies_permanent_redirects_from_the_history(
    workdir: Path, new_server: NewServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = new_server()
    new = server.route("/moved/new", html_page("New home"))
    old = server.route("/moved/old", Reply(301, {"Location": "/moved/new"}))
    wrapped = f"https://www.google.com/url?q={old}"
    (workdir / "guide.md").write_text(f"# Guide\n\n- [old]({wrapped})\n- [keep]({new})\n")
    assert run_cli(capsys, "check", "guide.md").code == 0  # a redirect does not fail
    assert run_cli(capsys, "fix", "guide.md", "--no-redirects", "--write").code == 0
    assert f"[old]({old})" in (workdir / "guide.md").read_text()  # only unwrapped
    assert run_cli(capsys, "fix", "guide.md", "--write").code == 0
    assert (workdir / "guide.md").read_text() == (
        f"# Guide\n\n- [old]({new})\n- [keep]({new})\n")


def test_status_and_history_read_without_creating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli(capsys, "status")
    assert result.code == 0 and "no database yet" in result.out
    assert run_cli(capsys, "fix", "--check").code == 1  # the bundled guide's wrappers
    assert not (tmp_path / "linkfresh.db").exists()
