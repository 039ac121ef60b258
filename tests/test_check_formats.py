"""Check report formats: markdown, GitHub annotations and JUnit XML (golden), and --fail-on."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from linkfresh.collector.types import CheckResult, Hop, Link, LinkKind, LinkState
from linkfresh.reports.check_formats import (
    escape_data,
    escape_property,
    fails,
    render_check_github,
    render_check_junit,
    render_check_markdown,
)
from linkfresh.reports.check_model import CheckReport, LinkReport
from tests.digest_seed import bundled_guide
from tests.golden_files import GOLDEN, assert_golden

STARTED = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
INJECTION = "bad gateway\n::error file=x,line=1::forged\r\n%0A 100% <b>&</b>\x00\x1b"


def _result(url: str, state: LinkState, **fields: object) -> CheckResult:
    return CheckResult(url=url, state=state, checked_at=STARTED, elapsed_ms=120, **fields)


def sample_report() -> CheckReport:
    """The bundled guide's links with one outcome of each kind, and a hostile one."""
    guide = bundled_guide()
    by_url: dict[str, list[Link]] = {}
    for link in guide.links:
        by_url.setdefault(link.url, []).append(link)
    outcomes = {
        "ruder.io": dict(state=LinkState.BROKEN, status=404),
        "nlp-course": dict(state=LinkState.BROKEN, error="no such host", error_class="dns"),
        "jurafsky": dict(state=LinkState.TIMEOUT, error="timed out after 3 attempts"),
        "v4.35.2": dict(
            state=LinkState.REDIRECTED, status=301,
            final_url="https://huggingface.co/docs/transformers/v4.35.2/en/training",
            chain=(Hop("https://huggingface.co/transformers/v4.35.2/training.html", 301,
                       "https://huggingface.co/docs/transformers/v4.35.2/en/training"),)),
        "huggingface.co/models": dict(state=LinkState.UNVERIFIED, status=429,
                                      detail="rate limited"),
        "jalammar": dict(state=LinkState.ERROR, status=502, error=INJECTION),
    }
    items = []
    for url, links in by_url.items():
        extra: dict[str, object] = dict(state=LinkState.OK, status=200)
        for fragment, outcome in outcomes.items():
            if fragment in url:
                extra = outcome
        items.append(LinkReport(_result(url, **extra), tuple(links)))
    hostile_place = Link(
        url="mailto:someone@example.org", target="mailto:someone@example.org",
        written_url="mailto:someone@example.org", text="mail", guide="odd, name: guide.md",
        line=3, section=("A <b>", "B"), kind=LinkKind.MAILTO)
    items.append(LinkReport(_result(hostile_place.url, LinkState.SKIPPED, detail="not http"),
                            (hostile_place,)))
    return CheckReport(guides=(guide.path, hostile_place.guide), started_at=STARTED,
                       finished_at=STARTED + timedelta(seconds=4.5), items=tuple(items))


def test_markdown_golden() -> None:
    assert_golden(GOLDEN / "check.md", render_check_markdown(sample_report()))


def test_github_golden() -> None:
    assert_golden(GOLDEN / "check.github.txt", render_check_github(sample_report()))


def test_junit_golden() -> None:
    assert_golden(GOLDEN / "check.junit.xml", render_check_junit(sample_report()))


def test_junit_is_well_formed_and_counts_add_up() -> None:
    root = ET.fromstring(render_check_junit(sample_report()).encode())
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites] == ["llms-learning-guide.md",
                                                       "odd, name: guide.md"]
    cases = root.findall(".//testcase")
    assert int(root.get("tests", "0")) == len(cases) == 11
    assert int(root.get("failures", "0")) == len(root.findall(".//failure")) == 2
    assert int(root.get("errors", "0")) == len(root.findall(".//error")) == 2
    assert int(root.get("skipped", "0")) == len(root.findall(".//skipped")) == 2
    failure = root.find(".//failure")
    assert failure is not None and failure.get("type") == "broken"
    error = root.find(".//error[@type='error']")
    assert error is not None and "<b>&</b>" in (error.text or "")
    assert "\x00" not in (error.text or "") and "\n::error" not in error.get("message", "")
    line85 = [case for case in cases if case.get("line") == "85"]
    assert line85[0].get("file") == "llms-learning-guide.md"


def test_junit_follows_fail_on() -> None:
    root = ET.fromstring(render_check_junit(sample_report(), {"unverified", "redirect"}))
    assert {failure.get("type") for failure in root.iter("failure")} == {"unverified",
                                                                         "redirected"}
    assert root.findall(".//error") == []
    skipped = [s.get("message", "") for s in root.iter("skipped")]
    assert any(message.startswith("broken") for message in skipped)


def test_github_annotations_cannot_be_forged() -> None:
    lines = render_check_github(sample_report()).splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert len(commands) == 6  # one per problem place; the injected text stays inside one
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in commands)
    assert lines[0].startswith("::error file=llms-learning-guide.md,line=47,title=Broken link::")
    forged = [line for line in commands if "jalammar" in line]
    assert forged == [
        "::error file=llms-learning-guide.md,line=58,title=Link answers with an error::"
        "http://jalammar.github.io/illustrated-transformer/ (HTTP 502; bad gateway ::error "
        "file=x,line=1::forged %250A 100%25 <b>&</b>)"
    ]
    assert lines[-1].startswith("linkfresh check: 11 links: 2 broken, 1 error, 1 timeout")


def test_workflow_command_escaping() -> None:
    assert escape_data("50%\r\nx") == "50%25%0D%0Ax"
    assert escape_property("a,b:c%\n") == "a%2Cb%3Ac%25%0A"


def test_markdown_lists_problems_and_escapes_them() -> None:
    markdown = render_check_markdown(sample_report())
    assert markdown.startswith("### linkfresh check failed\n")
    table_rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert len(table_rows) == 1 + 6  # header + problems; ok and skipped are only counted
    assert all(row.count(" | ") == 3 for row in table_rows[1:])  # no pipe broke a row
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in markdown and "::forged" not in markdown


def test_markdown_passed_and_network_down() -> None:
    report = sample_report()
    ok = replace(report, items=tuple(i for i in report.items
                                     if i.result.state in (LinkState.OK, LinkState.SKIPPED)))
    assert render_check_markdown(ok).startswith("### linkfresh check passed\n")
    assert "|" not in render_check_markdown(ok)
    down = replace(report, network_down=True)
    assert "### linkfresh check could not verify" in render_check_markdown(down)
    assert render_check_github(down).startswith("::error title=linkfresh::network unreachable")


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [
        ({"broken"}, True),
        ({"unverified"}, True),
        ({"redirect"}, True),
        (set(), False),
    ],
)
def test_fails(fail_on: set[str], expected: bool) -> None:
    assert fails(sample_report(), fail_on) is expected


def test_fails_by_state() -> None:
    report = sample_report()
    only = {state: replace(report, items=tuple(i for i in report.items
                                               if i.result.state in (state, LinkState.OK)))
            for state in LinkState}
    assert fails(only[LinkState.TIMEOUT], {"broken"})
    assert not fails(only[LinkState.UNVERIFIED], {"broken"})
    assert not fails(only[LinkState.REDIRECTED], {"broken", "unverified"})
    assert not fails(only[LinkState.SKIPPED], {"broken", "unverified", "redirect"})
    assert not fails(replace(report, network_down=True), {"broken"})
    with pytest.raises(ValueError, match="'dead'"):
        fails(report, {"dead"})
