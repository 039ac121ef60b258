"""A big guide parsed in a forked child while the database loads (`stages.parse_ahead`).

Forking is only safe from a process of one thread, and the test process has server threads:
each fork runs in a fresh `python -c` process, as a `linkfresh check` would.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from linkfresh.collector.types import CheckResult, Hop, Link, LinkKind, LinkState
from linkfresh.context import STDIN
from linkfresh.exitcodes import ExitCode, Fail
from linkfresh.stages.parse_ahead import PARSE_AHEAD_BYTES, can_fork, worth_parsing_apart
from tests.configs import write_config
from tests.servers import LocalServer, html_page


def in_fresh_process(code: str, cwd: Path | None = None) -> dict[str, object]:
    """Run `code` in a new interpreter (one thread); it prints one JSON object last."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_child_parses_and_the_parent_gets_the_value() -> None:
    got = in_fresh_process("""
        import json, os
        from linkfresh.stages.parse_ahead import Forked
        child = Forked(lambda: {"pid": os.getpid(), "links": list(range(5000))})
        value = child.result()
        again = child.result()  # taken once, kept
        child.close()
        print(json.dumps({"parent": os.getpid(), "child": value["pid"],
                          "n": len(value["links"]), "same": value is again}))
    """)
    assert got["child"] != got["parent"] and got["n"] == 5000 and got["same"] is True


def test_a_failure_in_the_child_is_raised_here_with_its_exit_code() -> None:
    got = in_fresh_process("""
        import json
        from linkfresh.exitcodes import ExitCode, Fail
        from linkfresh.stages.parse_ahead import Forked

        def unreadable():
            raise Fail("guide.md: not UTF-8", ExitCode.USAGE)

        class Odd(Exception):
            def __init__(self, a, b):  # cannot be rebuilt from its args: does not unpickle
                super().__init__(a)
                self.b = lambda: b

        def odd():
            raise Odd("strange", 2)

        seen = []
        for load in (unreadable, odd):
            try:
                Forked(load).result()
            except BaseException as error:
                seen.append([type(error).__name__, str(error), getattr(error, "code", None)])
        print(json.dumps(seen))
    """)
    assert got == [["Fail", "guide.md: not UTF-8", int(ExitCode.USAGE)],
                   ["RuntimeError", "Odd: strange", None]]


def test_a_child_that_dies_is_replaced_by_loading_here() -> None:
    got = in_fresh_process("""
        import json, os
        from linkfresh.stages.parse_ahead import Forked
        parent = os.getpid()

        def load():
            if os.getpid() != parent:
                os._exit(9)  # killed, or out of memory, before it answered
            return "loaded here"

        print(json.dumps({"value": Forked(load).result()}))
    """)
    assert got == {"value": "loaded here"}


def test_closing_before_the_answer_stops_the_child() -> None:
    got = in_fresh_process("""
        import json, os, time
        from linkfresh.stages.parse_ahead import Forked
        child = Forked(lambda: time.sleep(60))
        pid = child.pid
        started = time.monotonic()
        child.close()
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        print(json.dumps({"alive": alive, "took": time.monotonic() - started}))
    """)
    assert got["alive"] is False and float(got["took"]) < 5  # type: ignore[arg-type]


def test_no_pipe_or_process_to_spare_means_parsing_here(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text("# Big\n\n- [a](https://a.example/)\n"
                                       + "x" * PARSE_AHEAD_BYTES)
    write_config(tmp_path)
    got = in_fresh_process("""
        import json, os, resource
        from pathlib import Path
        from linkfresh.context import AppContext
        from linkfresh.stages import parse_ahead
        app = AppContext(config_path=Path("linkfresh.toml"))
        forks = []
        real = parse_ahead.Forked.__init__
        def counted(self, load):
            forks.append(1)
            real(self, load)
        parse_ahead.Forked.__init__ = counted
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) - 1, hard))
        with parse_ahead.parsed_ahead(app, [Path("guide.md")]) as parsed:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
            guides = parsed()
        print(json.dumps({"tried": len(forks), "links": [l.url for l in guides[0].links]}))
    """, cwd=tmp_path)
    assert got == {"tried": 1, "links": ["https://a.example/"]}


def test_forking_only_from_one_thread_and_for_a_big_guide(tmp_path: Path) -> None:
    small, big = tmp_path / "small.md", tmp_path / "big.md"
    small.write_text("# Small\n")
    big.write_text("# Big\n" + "x" * PARSE_AHEAD_BYTES)
    assert not worth_parsing_apart([small])
    assert worth_parsing_apart([big]) and worth_parsing_apart([small, big])
    assert not worth_parsing_apart([big, STDIN])  # standard input is read where it is
    assert not worth_parsing_apart([tmp_path / "missing.md"])  # reported by the parse
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not can_fork()  # another thread could hold a lock the child would need
    finally:
        release.set()
        other.join()


def test_values_that_cross_processes_unpickle_equal() -> None:
    link = Link("https://a.example/", "https://a.example/", "https://g/?q=https://a.example/",
                "A", "guide.md", 3, ("Phase 1",), LinkKind.HTTP, unwrapped_by=("google",),
                span=(10, 42))
    result = CheckResult("https://a.example/", LinkState.REDIRECTED, datetime.now(UTC),
                         status=200, chain=(Hop("https://a.example/", 301, "https://b/"),),
                         requests=2, wall="login")
    for value in (link, result):
        back = pickle.loads(pickle.dumps(value))
        assert back == value and type(back) is type(value)
    assert pickle.loads(pickle.dumps(link)).span == (10, 42)  # not compared, still kept
    failure = pickle.loads(pickle.dumps(Fail("disk full", ExitCode.STORAGE)))
    assert (str(failure), failure.code) == ("disk full", ExitCode.STORAGE)


def test_a_recorded_check_of_a_big_guide(tmp_path: Path,
                                         new_server: Callable[[], LocalServer]) -> None:
    """The whole command, as cron runs it: the guide read in a child, its warning printed
    once, every link reported, the links stored; and the same again from the history."""
    server = new_server()
    page = server.route("/ahead/page", html_page("Page"))
    many = [f"- [resource {n}](https://skip.example/{n}) a line of text about it"
            for n in range(PARSE_AHEAD_BYTES // 50)]
    front = "---\ntitle: [unclosed\n---\n"
    (tmp_path / "guide.md").write_text(front + "# Big\n\n" + "\n".join([f"- [p]({page})", *many]))
    assert (tmp_path / "guide.md").stat().st_size >= PARSE_AHEAD_BYTES
    write_config(tmp_path, database="sqlite:///state.db", check={"exclude": ["skip\\.example"]})
    command = [sys.executable, "-m", "linkfresh", "check", "guide.md", "--format", "json"]
    for _ in range(2):
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stderr.count("front matter is not valid YAML") == 1
        report = json.loads(done.stdout)
        states = {r["url"]: r["state"] for r in report["results"]}
        assert len(states) == len(many) + 1 and states[page] == "ok"
        assert {states[f"https://skip.example/{n}"] for n in range(len(many))} == {"skipped"}
    assert server.count("/ahead/page") == 1  # the second run took it from the history
