"""Check report renderers, exit codes and network-down rules (pure, no server)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from linkfresh.collector.check.netdown import network_down
from linkfresh.collector.types import CheckResult, Hop, Link, LinkKind, LinkState
from linkfresh.commands.check import FailOn, exit_code
from linkfresh.reports.check_formats import render_check_markdown
from linkfresh.reports.check_report import render_check_json, render_check_text
from linkfresh.stages.check import build_report
from tests.schemas import valid_document

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def link(url: str, line: int) -> Link:
    return Link(url, url, url, "text", "g.md", line, ("G", "Step"), LinkKind.HTTP)


def result(url: str, state: LinkState, error_class: str | None = None, **kw: object) -> CheckResult:
    return CheckResult(url, state, T0, error_class=error_class, **kw)  # type: ignore[arg-type]


def sample() -> tuple[list[Link], list[CheckResult]]:
    links = [link("https://a.io/x", 3), link("https://b.io/y|z", 5), link("https://a.io/x", 9)]
    results = [
        result("https://a.io/x", LinkState.OK, status=200),
        result("https://b.io/y|z", LinkState.BROKEN, status=404, detail="HTTP 404",
               chain=(Hop("https://b.io/old", 301, "https://b.io/y|z"),)),
    ]
    return links, results


def test_json_is_versioned_sorted_and_complete() -> None:
    links, results = sample()
    report = build_report(["g.md"], links, results, T0, T0)
    document = valid_document(render_check_json(report), "check")
    assert document["schema"] == "linkfresh.check" and document["schema_version"] == 1
    assert document["summary"]["total"] == 2 and document["summary"]["broken"] == 1
    first, second = document["results"]
    assert [o["line"] for o in first["occurrences"]] == [3, 9]
    assert second["chain"] == [{"url": "https://b.io/old", "status": 301,
                                "location": "https://b.io/y|z"}]
    assert render_check_json(report) == render_check_json(report)


def test_text_lists_problems_with_their_place_and_a_summary() -> None:
    links, results = sample()
    text = render_check_text(build_report(["g.md"], links, results, T0, T0), color=False)
    assert "BROKEN" in text and "https://b.io/y|z" in text and "g.md:5 (G > Step)" in text
    assert "\x1b[" not in text
    assert "│ broken     │     1 │" in text
    assert "\x1b[" in render_check_text(build_report(["g.md"], links, results, T0, T0), True)


def test_exit_codes() -> None:
    links, results = sample()
    report = build_report(["g.md"], links, results, T0, T0)
    assert exit_code(report, [FailOn.BROKEN]) == 1
    assert exit_code(report, [FailOn.UNVERIFIED]) == 0
    down = build_report(["g.md"], links, [result("https://a.io/x", LinkState.BROKEN, "refused"),
                                          result("https://b.io/y|z", LinkState.BROKEN, "no-host")],
                        T0, T0)
    assert down.network_down and exit_code(down, [FailOn.BROKEN]) == 3
    assert {item.result.state for item in down.items} == {LinkState.UNVERIFIED}


def test_a_dead_local_link_is_exit_1_even_with_the_network_down() -> None:
    """A relative link checked on disk is certain without the network: exit 1, not 3."""
    web = link("https://a.io/x", 3)
    local = replace(link("missing.md", 4), kind=LinkKind.RELATIVE)
    results = [result("https://a.io/x", LinkState.BROKEN, "refused"),
               result("missing.md", LinkState.BROKEN, None)]
    down = build_report(["g.md"], [web, local], results, T0, T0)
    assert down.network_down and exit_code(down, [FailOn.BROKEN]) == 1
    states = {item.result.url: item.result.state for item in down.items}
    assert states == {"https://a.io/x": LinkState.UNVERIFIED, "missing.md": LinkState.BROKEN}
    assert render_check_markdown(down).startswith("### linkfresh check failed")
    fine = build_report(["g.md"], [web, local], [results[0], result("missing.md", LinkState.OK)],
                        T0, T0)
    assert fine.network_down and exit_code(fine, [FailOn.BROKEN]) == 3


def test_network_down_rules() -> None:
    dead = [result("https://a.io/", LinkState.BROKEN, "no-host"),
            result("https://b.io/", LinkState.TIMEOUT, "connect-timeout")]
    assert network_down(dead)
    assert not network_down([*dead, result("https://c.io/", LinkState.BROKEN, status=404)])
    assert not network_down([result("https://a.io/", LinkState.TIMEOUT, "timeout")])
    assert not network_down([result("mailto:x", LinkState.SKIPPED)])
    # Hosts that answered last time went silent, a long-dead one does not matter.
    mixed = [*dead, result("https://c.io/", LinkState.OK, status=200)]
    assert not network_down(mixed, known_good_hosts={"c.io"})
    assert network_down(dead, known_good_hosts={"a.io", "zzz.io"})
