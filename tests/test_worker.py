"""`linkfresh worker` in one process, on SQLite and PostgreSQL: a round checks every due link
once, a second worker finds nothing to do, a lease that ran out returns links to the pool, the
network being down marks nothing, and the digest is written once.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from linkfresh.collector.types import CheckResult, LinkState
from linkfresh.context import AppContext
from linkfresh.stages.worker import looks_down, plan_slots, sync_guides, work
from linkfresh.storage.claims import claim_links, lease_slots, open_round, release
from linkfresh.storage.migrations import open_database
from linkfresh.storage.models import CheckRound, HostSlot, Resource, ResultRow, RunRow
from linkfresh.storage.status import status_summary
from tests.cli import run_cli
from tests.configs import write_config
from tests.postgres_server import PostgresServer, unavailable_reason
from tests.servers import LocalServer, Reply, closed_port, html_page
from tests.storage_helpers import T0

NewServer = Callable[[], LocalServer]
REPO = Path(__file__).resolve().parent.parent
QUIET = {"topics": [], "feeds": [], "tables": {"digest": {"archive_lookup": False}}}


def setup(folder: Path, db_url: str, urls: list[str], **worker: object) -> AppContext:
    lines = ["# Guide", ""] + [f"- [link {n}]({url})" for n, url in enumerate(urls)]
    (folder / "guide.md").write_text("\n".join(lines) + "\n")
    tables = {**QUIET["tables"], "worker": {"lease_seconds": 5, "poll_seconds": 0.2, **worker}}
    config = write_config(folder, guides=["guide.md"], database=db_url,
                          reports_dir=str(folder / "reports"), topics=[], feeds=[],
                          tables=tables)
    return AppContext(config_path=config)


def run_worker(app: AppContext, engine: Engine, **options: object):  # type: ignore[no-untyped-def]
    guides = app.load_guides()
    sync_guides(engine, guides, datetime.now(UTC))
    return asyncio.run(work(app, engine, guides, until_idle=True, stop=threading.Event(),
                            **options))  # type: ignore[arg-type]


def results_per_url(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(
            select(Resource.url, func.count(ResultRow.id))
            .join(ResultRow, ResultRow.resource_id == Resource.id).group_by(Resource.url)).all())


def test_a_round_checks_every_link_once_and_writes_one_digest(
    tmp_path: Path, db_url: str, new_server: NewServer
) -> None:
    server = new_server()
    urls = [server.route(f"/w/{n}", html_page(f"Page {n}")) for n in range(12)]
    urls.append(server.route("/w/gone", Reply(404)))
    app = setup(tmp_path, db_url, urls)
    engine = open_database(db_url)
    outcome = run_worker(app, engine)
    assert outcome.checked == 13 and outcome.rounds_closed == 1 and not outcome.network_down
    assert results_per_url(engine) == dict.fromkeys(urls, 1)
    assert all(server.count(f"/w/{n}") == 1 for n in range(12))
    assert outcome.stages == ["collect", "digest"]
    assert len(list((tmp_path / "reports").glob("digest-*.md"))) == 1
    assert status_summary(engine, datetime.now(UTC), timedelta(hours=20)).round is None
    second = run_worker(app, engine)  # same round, closed: nothing to do, nothing due
    assert second.checked == 0 and second.stages == []
    with engine.connect() as conn:
        runs = conn.execute(select(RunRow.kind, RunRow.outcome).order_by(RunRow.id)).all()
        assert sorted(runs) == [("check", "ok"), ("collect", "ok"), ("digest", "ok")]
        assert conn.execute(select(func.count()).select_from(HostSlot)
                            .where(HostSlot.owner.is_not(None))).scalar_one() == 0
    assert all(server.count(f"/w/{n}") == 1 for n in range(12))
    engine.dispose()


def test_next_round_rechecks_and_expired_leases_return_links(
    tmp_path: Path, db_url: str, new_server: NewServer
) -> None:
    server = new_server()
    urls = [server.route(f"/r/{n}", html_page("ok")) for n in range(6)]
    app = setup(tmp_path, db_url, urls, lease_seconds=1)
    engine = open_database(db_url)
    sync_guides(engine, app.load_guides(), datetime.now(UTC))
    # A worker that died holding slots and links: nobody else may use them until they expire.
    round_ = open_round(engine, datetime(2026, 1, 1, tzinfo=UTC), datetime.now(UTC))
    host = server.url().split("/")[2].split(":")[0]
    assert lease_slots(engine, "dead", [(host, 4)], 4, 64, timedelta(seconds=1)) == {host: 4}
    taken = claim_links(engine, "dead", round_, host, 3, timedelta(hours=20),
                        timedelta(seconds=1))
    assert len(taken) == 3
    assert lease_slots(engine, "alive", [(host, 1)], 4, 64, timedelta(seconds=1)) == {}
    assert len(claim_links(engine, "alive", round_, host, 10, timedelta(hours=20),
                           timedelta(seconds=1))) == 3  # only the unclaimed ones
    shown = status_summary(engine, datetime.now(UTC), timedelta(hours=20)).round
    assert shown is not None and (shown.left, shown.held, shown.workers) == (6, 6, 2)
    release(engine, "alive")
    outcome = run_worker(app, engine)  # waits for the dead worker's leases to run out
    assert outcome.checked == 6
    assert results_per_url(engine) == dict.fromkeys(urls, 1)
    # The schedule fires again (here: the latest round is moved back): every link once more.
    earlier = datetime(2026, 6, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(update(CheckRound).where(CheckRound.slot > earlier).values(slot=earlier))
    write_config(tmp_path, guides=["guide.md"], database=db_url, topics=[], feeds=[],
                 check={"recheck_after_hours": 0}, reports_dir=str(tmp_path / "reports"),
                 tables={**QUIET["tables"], "worker": {"poll_seconds": 0.2}})
    assert run_worker(AppContext(config_path=tmp_path / "linkfresh.toml"), engine).checked == 6
    assert results_per_url(engine) == dict.fromkeys(urls, 2)
    engine.dispose()


def test_a_worker_judges_drift_as_a_single_check_does(
    tmp_path: Path, db_url: str, new_server: NewServer
) -> None:
    server = new_server()
    long_text = "<p>" + "Lecture notes and exercises on neural networks. " * 40 + "</p>"
    course = server.route("/course", html_page("CS101: Neural Networks", long_text))
    app = setup(tmp_path, db_url, [course])
    engine = open_database(db_url)
    assert run_worker(app, engine).checked == 1  # the first good check: the reference
    server.route("/course", html_page("Online Shop | Home", long_text))
    earlier = datetime(2026, 6, 1, tzinfo=UTC)
    with engine.begin() as conn:  # the schedule fires again
        conn.execute(update(CheckRound).where(CheckRound.slot > earlier).values(slot=earlier))
    write_config(tmp_path, guides=["guide.md"], database=db_url, topics=[], feeds=[],
                 check={"recheck_after_hours": 0}, reports_dir=str(tmp_path / "reports"),
                 tables={**QUIET["tables"], "worker": {"poll_seconds": 0.2}})
    assert run_worker(AppContext(config_path=tmp_path / "linkfresh.toml"), engine).checked == 1
    with engine.connect() as conn:
        states = conn.execute(select(ResultRow.state).order_by(ResultRow.id)).scalars().all()
    assert states == ["ok", "changed"]
    engine.dispose()


def test_network_down_marks_nothing(tmp_path: Path, db_url: str) -> None:
    urls = [f"http://127.0.0.1:{closed_port()}/a", f"http://127.0.0.1:{closed_port()}/b"]
    app = setup(tmp_path, db_url, urls)
    engine = open_database(db_url)
    outcome = run_worker(app, engine)
    assert outcome.network_down and outcome.checked == 0
    assert results_per_url(engine) == {}
    with engine.connect() as conn:

        assert set(conn.execute(select(Resource.verdict)).scalars()) == {"new"}
        assert conn.execute(select(func.count()).select_from(Resource)
                            .where(Resource.lease_owner.is_not(None))).scalar_one() == 0
    engine.dispose()


def test_a_dead_host_is_not_the_network_down(
    tmp_path: Path, db_url: str, new_server: NewServer
) -> None:
    """The last batches can hold only a dead host's links: after answers from other hosts
    they are recorded as failing, not taken for the network being down."""
    server = new_server()
    good = [server.route(f"/alive/{n}", html_page("ok")) for n in range(3)]
    dead = [f"http://127.0.0.1:{closed_port()}/x{n}" for n in range(2)]
    app = setup(tmp_path, db_url, good + dead)
    write_config(tmp_path, guides=["guide.md"], database=db_url, topics=[], feeds=[],
                 reports_dir=str(tmp_path / "reports"), check={"concurrency": 1, "per_host": 1},
                 tables={**QUIET["tables"], "worker": {"poll_seconds": 0.2}})
    engine = open_database(db_url)
    outcome = run_worker(AppContext(config_path=app.config_path), engine)
    assert not outcome.network_down and outcome.batches == 2  # the good host's batch first
    assert results_per_url(engine) == dict.fromkeys(good + dead, 1)
    with engine.connect() as conn:

        verdicts = dict(conn.execute(select(Resource.url, Resource.verdict)).all())
    assert [verdicts[url] for url in dead] == ["failing", "failing"]
    engine.dispose()


def test_worker_command_until_idle(
    tmp_path: Path, db_url: str, new_server: NewServer, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = new_server()
    urls = [server.route(f"/c/{n}", html_page("ok")) for n in range(3)]
    setup(tmp_path, db_url, urls)
    monkeypatch.chdir(tmp_path)
    assert run_cli(capsys, "worker", "--until-idle").code == 0
    engine = open_database(db_url)
    assert results_per_url(engine) == dict.fromkeys(urls, 1)
    engine.dispose()


def test_network_down_rule_for_one_batch() -> None:
    refused = [CheckResult(f"http://{h}/", LinkState.ERROR, T0, error_class="refused")
               for h in ("a.example", "b.example")]
    assert looks_down(refused, set(), None)  # nothing ever answered
    assert looks_down(refused, {"a.example"}, 1.0)  # a host that answered before is silent
    assert not looks_down(refused, {"c.example"}, 1.0)  # others answered a second ago
    assert looks_down(refused, {"c.example"}, 600.0)  # ... but not lately
    answered = [*refused, CheckResult("http://c.example/", LinkState.BROKEN, T0, status=404)]
    assert not looks_down(answered, set(), None)


def test_slots_go_to_the_hosts_with_most_work() -> None:
    assert plan_slots({"a": 100, "b": 3, "c": 40}, per_host=4, per_slot=8) == [
        ("a", 4), ("c", 4), ("b", 1)]
    assert plan_slots({"a": 9}, per_host=4, per_slot=8) == [("a", 2)]


def test_busy_hosts_are_passed_over_within_the_budget(db_url: str) -> None:
    engine = open_database(db_url)
    lease = timedelta(seconds=30)
    assert lease_slots(engine, "one", [("a", 4)], 4, 64, lease) == {"a": 4}
    # "a" is taken: "two" gets the next hosts instead, no more than its budget of 5.
    assert lease_slots(engine, "two", [("a", 4), ("b", 4), ("c", 4)], 4, 5, lease) == {
        "b": 4, "c": 1}
    release(engine, "one")
    assert lease_slots(engine, "two", [("a", 4)], 4, 64, lease) == {"a": 4}
    engine.dispose()


def test_postgresql_without_its_driver_says_which_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path, database="postgresql://linkfresh@127.0.0.1:1/linkfresh")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed
    result = run_cli(capsys, "worker", "--until-idle")
    assert result.code == 2 and "pip install 'linkfresh[postgres]'" in result.err
    assert "Traceback" not in result.err


def test_an_unreachable_postgresql_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path, database=f"postgresql://linkfresh@127.0.0.1:{closed_port()}/lf")
    monkeypatch.chdir(tmp_path)
    result = run_cli(capsys, "status")
    assert result.code == 2 and "database postgresql://linkfresh@127.0.0.1:" in result.err
    assert "Traceback" not in result.err


def test_the_database_going_away_stops_the_worker_cleanly(
    tmp_path: Path, new_server: NewServer
) -> None:
    """A server that stops mid-work: exit 2 with a message, no traceback (its leases run
    out and other workers carry on; a service manager restarts this one)."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    private = PostgresServer.start()  # this test stops it: not the session's server
    try:
        server = new_server()
        slow = [server.route(f"/gone/{n}", Reply(200, {"Content-Type": "text/html"},
                                                "<title>x</title>", delay=0.3))
                for n in range(12)]
        url = private.new_database()
        setup(tmp_path, url, slow)
        worker = subprocess.Popen([sys.executable, "-m", "linkfresh", "-c",
                                   str(tmp_path / "linkfresh.toml"), "worker", "--until-idle"],
                                  cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True)
        deadline = time.monotonic() + 30
        while sum(server.count(f"/gone/{n}") for n in range(12)) == 0:
            assert time.monotonic() < deadline and worker.poll() is None
            time.sleep(0.05)
    finally:
        private.stop()
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 2, err
    assert "database failure, worker stopped" in err and "Traceback" not in err
