"""Fuzzing what comes from outside (issue 13): arbitrary URLs and `Location` headers through
the checker against a local server, and arbitrary guides and config values through the CLI.
Whatever comes in, no traceback reaches the user and every link gets a verdict."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from linkfresh.collector.check.checker import check_urls
from linkfresh.collector.guide.parse import parse_guide
from linkfresh.collector.types import CheckResult, LinkState
from linkfresh.collector.web.client import build_client
from linkfresh.config.settings import CheckSettings
from tests.cli import run_cli
from tests.configs import FAST_CHECK
from tests.servers import LocalServer, Reply, closed_port, html_page

NewServer = Callable[[], LocalServer]
FAST = CheckSettings(allow_private=True, connect_timeout=0.5, read_timeout=0.5, link_deadline=3,
                     retries=0, backoff=0.01, dns_retry_pause=0.01, soft_404_probe=False)
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
_paths = (f"/fuzz/{n}" for n in itertools.count())


async def _no_dns(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "no DNS in the fuzz tests")


def check(urls: list[str]) -> list[CheckResult]:
    async def go() -> list[CheckResult]:
        async with build_client(FAST, default_user_agent="fuzz", resolver=_no_dns) as client:
            return await check_urls(urls, client, FAST)

    return asyncio.run(go())


# Hosts: names, IP-like strings (some impossible), brackets, IDNA trouble, ports of any shape.
hosts = st.one_of(
    st.from_regex(r"[a-z0-9.-]{1,20}", fullmatch=True),
    st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,4}){0,4}", fullmatch=True),
    st.from_regex(r"\[[0-9a-fz:.%]{0,20}\]?", fullmatch=True),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#\r\n"),
            min_size=1, max_size=12),
)
ports = st.one_of(st.just(""), st.from_regex(r":[0-9:a-z]{0,7}", fullmatch=True))
tails = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
urls = st.builds(lambda scheme, host, port, tail: f"{scheme}://{host}{port}/{tail}",
                 st.sampled_from(["http", "https", "HTTP"]), hosts, ports, tails)


@FUZZ
@given(st.lists(urls, min_size=1, max_size=4))
@example(["http://256.1.1.1/", "http://0177.0.0.1/", "http://a.com:80:80/",
          "http://\N{GRINNING FACE}.com/", "http://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com/",
          "http://[zz/x"])
def test_arbitrary_urls_each_get_a_verdict(given_urls: list[str]) -> None:
    results = check(given_urls)
    assert [result.url for result in results] == list(dict.fromkeys(given_urls))
    assert all(isinstance(result.state, LinkState) for result in results)


# A Location header is any latin-1 text without line breaks (http.server sends latin-1).
locations = st.one_of(
    st.text(st.characters(max_codepoint=255, blacklist_characters="\r\n"), max_size=40),
    st.builds(lambda url: url.encode("utf-8").decode("latin-1"), urls),
)


@FUZZ
@given(location=locations, status=st.sampled_from([301, 302, 303, 307, 308]))
@example(location="http://[zz/x", status=301)
@example(location="/a)%20[click](http://evil.example/)", status=301)
@example(location="http://256.1.1.1/", status=302)
def test_arbitrary_locations_each_get_a_verdict(
    server: LocalServer, location: str, status: int
) -> None:
    good = server.route("/fuzz-good", html_page("Good"))
    moved = server.route(next(_paths), Reply(status, {"Location": location}))
    results = {result.url: result for result in check([moved, good])}
    assert results[good].state is LinkState.OK
    assert isinstance(results[moved].state, LinkState)


# -- the command line ------------------------------------------------------------------------

destinations = st.one_of(
    urls,
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
    st.sampled_from(["mailto:a@b.example", "#top", "../x.md", "ftp://x.example/"]),
)
link_lines = st.one_of(
    st.builds(lambda text, url: f"- [{text}]({url})", st.text(max_size=8), destinations),
    st.builds(lambda url: f"- <{url}>", destinations),
    st.builds(lambda url: f"see {url} here", destinations),
    st.builds(lambda url: f'<a href="{url}">x</a>', destinations),
    st.builds(lambda url: f"[r]: {url}\n\n[x][r]", destinations),
    st.text(max_size=40),
)


@pytest.fixture(scope="module")
def refused() -> str:
    return f"http://127.0.0.1:{closed_port()}/gone"


@settings(FUZZ, max_examples=25)  # two CLI checks per example, one with a database
@given(lines=st.lists(link_lines, max_size=6))
def test_arbitrary_guides_check_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: LocalServer, refused: str,
    capsys: pytest.CaptureFixture[str], lines: list[str],
) -> None:
    fine = server.route("/fuzz-guide", html_page("Fine"))
    text = "\n\n".join(["# Guide", f"- [fine]({fine})", f"- [gone]({refused})", *lines]) + "\n"
    guide = tmp_path / "fuzz-guide.md"
    guide.write_text(text, encoding="utf-8")
    (tmp_path / "linkfresh.toml").write_text(
        "[check]\n" + "".join(f"{key} = {json.dumps(value)}\n"
                              for key, value in FAST_CHECK.items())
        + "link_deadline = 3\nsoft_404_probe = false\n")
    monkeypatch.chdir(tmp_path)
    links = {link.url for link in parse_guide(text, str(guide)).links}
    for stateless in (["--no-db"], ["--full"]):  # and recorded in the database
        outcome = run_cli(capsys, "check", *stateless, "--format", "json", str(guide))
        assert "Traceback" not in outcome.err
        if outcome.code == 2:  # a guide that is no text (NUL bytes) is refused, and says so
            assert outcome.err.startswith("linkfresh: error:") and "\x00" in text, outcome.err
            continue
        assert outcome.code in (0, 1, 3), outcome.err
        assert links <= {result["url"] for result in json.loads(outcome.out)["results"]}


config_keys = st.sampled_from([
    "guides", "database", "reports_dir", "check.concurrency", "check.per_host",
    "check.link_deadline", "check.exclude", "check.headers", "check.accept", "check.fail_on",
    "check.user_agent", "check.max_redirects", "check.head_first", "schedule.check",
    "schedule.timezone", "schedule.shutdown_grace", "arxiv.base_url", "digest.per_topic",
    "check.nonsense", "nonsense",
])
toml_values = st.one_of(
    st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(), st.text(max_size=20),
    st.lists(st.one_of(st.integers(-5, 999), st.text(max_size=8)), max_size=3),
)


@FUZZ
@given(values=st.dictionaries(config_keys, toml_values, max_size=4))
@example(values={"schedule.check": "99 99 * * *"})
@example(values={"database": "postgresql://u@127.0.0.1/db"})
@example(values={"check.exclude": ["("]})
def test_arbitrary_config_values_never_show_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: LocalServer,
    capsys: pytest.CaptureFixture[str], values: dict[str, object],
) -> None:
    fine = server.route("/fuzz-config", html_page("Fine"))
    (tmp_path / "guide.md").write_text(f"# G\n\n- [fine]({fine})\n")
    top = {key: value for key, value in values.items() if "." not in key}
    tables: dict[str, dict[str, object]] = {"check": {"allow_private": True}}
    for key, value in values.items():
        if "." in key:
            table, name = key.split(".", 1)
            tables.setdefault(table, {})[name] = value
    text = "".join(f"{key} = {json.dumps(value)}\n" for key, value in top.items())
    for table, entries in tables.items():
        text += f"[{table}]\n" + "".join(f"{key} = {json.dumps(value)}\n"
                                         for key, value in entries.items())
    (tmp_path / "linkfresh.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    for command in (["links", "guide.md"], ["check", "--no-db", "guide.md"], ["status"]):
        outcome = run_cli(capsys, *command)
        assert "Traceback" not in outcome.err, (text, outcome.err)
        assert outcome.code in (0, 1, 2, 3), (text, command, outcome)
        if outcome.code == 2:
            assert outcome.err.startswith("linkfresh: error:"), outcome.err
