"""Content drift: the rules (pure), then the history through the CLI against a real loopback
server: a page that changes is `changed`, listed in the digest, and `accept` clears it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkfresh.collector.check.drift import Fingerprint, drift, wall_sign, with_drift
from linkfresh.collector.check.pages import inspect_html
from linkfresh.collector.types import CheckResult, LinkState
from linkfresh.storage.migrations import open_database
from linkfresh.storage.status import link_history
from tests.cli import run_cli
from tests.configs import write_config
from tests.schemas import valid_document
from tests.servers import LocalServer, Reply, html_page

NewServer = Callable[[], LocalServer]
LONG = "<p>" + "Backpropagation, gradients and the rest of the course. " * 60 + "</p>"
COURSE = Fingerprint("CS231n: Deep Learning for Vision | Stanford University",
                     "CS231n: Deep Learning for Vision", 3300)


@pytest.mark.parametrize(("now", "texts", "changed"), [
    # the same page, or a title that still names the same thing
    (COURSE, (), None),
    (Fingerprint("CS231n: Deep Learning for Vision (Spring 2025) | Stanford University",
                 None, 3400), (), None),
    (Fingerprint("Convolutional networks course", "CS231n: Deep Learning for Vision", 3300),
     (), None),  # a new title, but the main heading still says what it is
    (Fingerprint("Stanford Vision Lab course", None, 3300), ("CS231n",), None),
    # a generic landing page, a stub, a wall
    (Fingerprint("Home | Stanford University", "Welcome", 3000), (), "title changed"),
    (Fingerprint("Stanford Online: Catalog", "Browse courses", 3000), (), "title changed"),
    (Fingerprint(COURSE.title, COURSE.heading, 200), (), "page shrank from 3,300 to 200"),
    (Fingerprint("Sign in", None, 300, "login wall: title 'Sign in'"), (),
     "became a login wall"),
])
def test_drift_rules(now: Fingerprint, texts: tuple[str, ...], changed: str | None) -> None:
    why = drift(COURSE, now, texts, "https://cs231n.stanford.edu/")
    assert (why is None) if changed is None else (why is not None and why.startswith(changed))


def test_a_shrink_needs_a_reference_with_enough_text() -> None:
    assert drift(Fingerprint("Notes", None, 500), Fingerprint("Notes", None, 20)) is None


def test_the_host_name_alone_is_not_a_shared_word() -> None:
    old = Fingerprint("GitHub - karpathy/nanoGPT: the simplest repository for GPTs")
    renamed = Fingerprint("GitHub - Where the world builds software")
    assert drift(old, renamed, (), "https://github.com/karpathy/nanoGPT") is not None


@pytest.mark.parametrize(("requested", "final", "body", "wall"), [
    ("https://a.example/paper/1", "https://a.example/login?next=/paper/1", b"<title>x</title>",
     "login wall: sent to /login"),
    ("https://www.b.example/v", "https://consent.b.example/m?continue=x", b"",
     "consent wall: sent to consent.b.example"),
    ("https://c.example/p", "https://c.example/p", b"<title>Before you continue</title>",
     "consent wall: title 'Before you continue'"),
    ("https://c.example/p", "https://c.example/p", b"<title>Anmelden - Konto</title>",
     "login wall: title 'Anmelden - Konto'"),
    ("https://c.example/p", "https://c.example/p",
     b"<title>Members</title><form><input type=password></form>",
     "login wall: a short page with a password field"),
    ("https://c.example/p", "https://c.example/p",
     b"<title>Forum thread</title><input type=password>" + LONG.encode(), None),
    ("https://c.example/login", "https://c.example/login", b"<title>Blog</title>", None),
    ("https://d.example/docs/authentication", "https://d.example/docs/auth/",
     b"<title>Authentication</title>", None),
    ("https://d.example/p", "https://d.example/p",
     b"<title>Login with OAuth, explained in ten short steps</title>", None),
])
def test_wall_signs(requested: str, final: str, body: bytes, wall: str | None) -> None:
    page = inspect_html(body, anchors=False, features=True) if body else None
    assert wall_sign(requested, final, page) == wall


def test_a_result_without_a_page_keeps_the_stored_drift() -> None:
    from datetime import UTC, datetime

    not_modified = CheckResult("https://a.example/", LinkState.OK, datetime.now(UTC), 304)
    kept = with_drift(not_modified, COURSE, stored="title changed: 'a' -> 'b'")
    assert kept.state is LinkState.CHANGED and kept.detail == "title changed: 'a' -> 'b'"
    assert with_drift(not_modified, COURSE).state is LinkState.OK


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_config(tmp_path, database="sqlite:///state.db", reports_dir="reports")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def states(out: str) -> dict[str, tuple[str, str | None]]:
    return {r["url"]: (r["state"], r["detail"]) for r in json.loads(out)["results"]}


def test_drift_from_history_then_digest_then_accept(
    workdir: Path, new_server: NewServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = new_server()
    course = server.route("/cs101", html_page("CS101: Neural Networks | Uni",
                                              "<h1>CS101: Neural Networks</h1>" + LONG))
    paper = server.route("/paper/7", html_page("Attention, explained", "<h1>Attention</h1>" + LONG))
    notes = server.route("/notes", html_page("Lecture notes on optimisation", LONG))
    steady = server.route("/steady", html_page("Steady page", LONG))
    (workdir / "guide.md").write_text(
        f"# G\n\n- [CS101 course]({course})\n- [paper]({paper})\n- [notes]({notes})\n"
        f"- [steady]({steady})\n")
    first = run_cli(capsys, "check", "guide.md", "--format", "json")
    assert first.code == 0 and {s for s, _ in states(first.out).values()} == {"ok"}

    server.route("/cs101", html_page("Online Learning | Home", "<h1>Welcome</h1>" + LONG))
    server.route("/paper/7", Reply(302, {"Location": "/login?next=/paper/7"}))
    server.route("/login", html_page("Sign in", "<form><input type=password></form>"))
    server.route("/notes", html_page("Lecture notes on optimisation", "<p>Moved.</p>"))
    second = run_cli(capsys, "check", "guide.md", "--full", "--format", "json")
    valid_document(second.out, "check")
    found = states(second.out)
    assert second.code == 0  # changed pages never fail a check by default
    assert found[course] == ("changed", "title changed: 'CS101: Neural Networks | Uni' → "
                                        "'Online Learning | Home'")
    assert found[paper][0] == "changed" and "became a login wall" in (found[paper][1] or "")
    assert found[notes][0] == "changed" and "page shrank" in (found[notes][1] or "")
    assert found[steady] == ("ok", None)
    assert run_cli(capsys, "check", "guide.md", "--full", "--fail-on", "changed").code == 1

    assert run_cli(capsys, "digest", "--output", "digest.md").code == 0
    digest = (workdir / "digest.md").read_text()
    section = digest.split("## Changed since it was added (3)", 1)[1]
    assert "was: CS101\\: Neural Networks \\| Uni" in section
    assert "now: Online Learning \\| Home" in section
    assert "## Newly broken" not in digest and "| 4 | 0 | 0 |" in digest  # 4 checked, 0 broken
    as_json = run_cli(capsys, "digest", "--format", "json", "--output", "digest.json")
    assert as_json.code == 0
    changed = valid_document((workdir / "digest.json").read_text(), "digest")["changed"]
    assert {item["url"] for item in changed["items"]} == {course, paper, notes}

    accepted = run_cli(capsys, "accept", course)
    assert accepted.code == 0 and "'Online Learning | Home' is its reference now" in accepted.out
    hits = server.count("/cs101")
    third = run_cli(capsys, "check", "guide.md", "--format", "json")  # not --full
    assert server.count("/cs101") == hits + 1  # an accepted link is due again
    assert states(third.out)[course] == ("ok", None)
    assert states(third.out)[notes][0] == "changed"  # only what was accepted
    engine = open_database(f"sqlite:///{workdir / 'state.db'}")
    history = link_history(engine, course)
    assert history is not None and [e.state for e in history.entries] == [
        "ok", "changed", "changed", "ok"]


def test_accept_refuses_what_it_does_not_know(
    workdir: Path, new_server: NewServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(capsys, "accept", "https://nowhere.example/").code == 2  # no database yet
    server = new_server()
    gone = server.route("/gone", Reply(404))
    (workdir / "guide.md").write_text(f"# G\n\n- [gone]({gone})\n")
    run_cli(capsys, "check", "guide.md")
    unknown = run_cli(capsys, "accept", "https://nowhere.example/")
    assert unknown.code == 2 and "not in the database" in unknown.err
    never = run_cli(capsys, "accept", gone)
    assert never.code == 2 and "no page to accept yet" in never.err


def test_a_page_that_only_moves_its_title_words_stays_ok(
    workdir: Path, new_server: NewServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = new_server()
    page = server.route("/rlhf", html_page("RLHF: a primer", "<h1>RLHF</h1>" + LONG))
    (workdir / "guide.md").write_text(f"# G\n\n- [An RLHF primer]({page})\n")
    run_cli(capsys, "check", "guide.md")
    server.route("/rlhf", html_page("A primer on RLHF (updated 2025) - Blog", "<h1>RLHF</h1>"
                                    + LONG))
    again = run_cli(capsys, "check", "guide.md", "--full", "--format", "json")
    assert states(again.out)[page] == ("ok", None)


def test_fail_on_changed_without_history_warns_and_passes(
    workdir: Path, new_server: NewServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = new_server()
    page = server.route("/fine", html_page("Fine"))
    (workdir / "guide.md").write_text(f"# G\n\n- [fine]({page})\n")
    outcome = run_cli(capsys, "check", "guide.md", "--no-db", "--fail-on", "changed")
    assert outcome.code == 0 and "no page counts as changed" in outcome.err


titles = st.one_of(st.none(), st.text(max_size=80))
prints = st.builds(Fingerprint, titles, titles, st.one_of(st.none(), st.integers(0, 10**6)),
                   st.one_of(st.none(), st.just("login wall: title 'Sign in'")))


@given(prints, st.lists(st.text(max_size=40), max_size=3), st.text(max_size=60))
def test_a_page_never_drifts_from_itself(page: Fingerprint, texts: list[str], url: str) -> None:
    assert drift(page, page, texts, url) is None


@given(prints, prints, st.lists(st.text(max_size=40), max_size=3))
def test_drift_takes_any_titles(old: Fingerprint, new: Fingerprint, texts: list[str]) -> None:
    why = drift(old, new, texts, "https://a.example/")
    assert why is None or why.startswith(("became a", "title changed", "page shrank"))
