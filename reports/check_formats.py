"""Check reports for CI and code review: markdown (PR comments), GitHub Actions annotations,
JUnit XML, and `fails`, which decides exit 1 for `--fail-on`. Renderers return `str`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from linkfresh.collector.types import CheckResult, Link, LinkKind, LinkState
from linkfresh.reports.check_model import CheckReport, LinkReport
from linkfresh.reports.escape import clean_text, escape_text, md_code, md_url
from linkfresh.reports.wording import plural

# What each `--fail-on` word makes fatal. "broken" covers every failure that persisted
# through the checker's retries (LinkState.is_failure): a dead host and a 5xx that never
# recovers both leave the reader with no page.
FAIL_ON_STATES: dict[str, frozenset[LinkState]] = {
    "broken": frozenset({LinkState.BROKEN, LinkState.ERROR, LinkState.TIMEOUT,
                         LinkState.PARKED}),
    "unverified": frozenset({LinkState.UNVERIFIED}),
    "redirect": frozenset({LinkState.REDIRECTED}),
    # Content drift is opt-in: a page that changed still answers, and may still serve.
    "changed": frozenset({LinkState.CHANGED}),
}
DEFAULT_FAIL_ON = frozenset({"broken"})
# Listed, most serious first; ok and skipped links are only counted.
PROBLEM_ORDER = (LinkState.BROKEN, LinkState.PARKED, LinkState.ERROR, LinkState.TIMEOUT,
                 LinkState.REDIRECTED, LinkState.CHANGED, LinkState.UNVERIFIED)
MARKDOWN_ROWS = 100  # GitHub refuses comments over 65,536 characters
_TITLES = {
    LinkState.BROKEN: "Broken link", LinkState.ERROR: "Link answers with an error",
    LinkState.TIMEOUT: "Link timed out", LinkState.REDIRECTED: "Link moved permanently",
    LinkState.UNVERIFIED: "Link could not be verified",
    LinkState.PARKED: "Link's domain is parked or for sale",
    LinkState.CHANGED: "Linked page changed since it was added",
}


def failing_states(fail_on: Iterable[str]) -> frozenset[LinkState]:
    """The states that make a check fail; an unknown word is a `ValueError` naming it."""
    states: set[LinkState] = set()
    for word in fail_on:
        if word not in FAIL_ON_STATES:
            raise ValueError(f"--fail-on {word!r}: expected one of {', '.join(FAIL_ON_STATES)}")
        states |= FAIL_ON_STATES[word]
    return frozenset(states)


def fails(report: CheckReport, fail_on: Iterable[str] = DEFAULT_FAIL_ON) -> bool:
    """True when a link is in a state `fail_on` makes fatal (exit 1).

    With the network down only links checked on disk (relative paths, #anchors) count: no
    web link was verified, and when nothing local fails the command exits 3 instead.
    """
    fatal = failing_states(fail_on)
    return any(item.result.state in fatal and (not report.network_down or _local(item))
               for item in report.items)


def _local(item: LinkReport) -> bool:
    return all(link.kind in (LinkKind.RELATIVE, LinkKind.ANCHOR) for link in item.links)


def problems(report: CheckReport) -> list[LinkReport]:
    """Items worth a line, most serious state first, then by place in the guide, then URL."""
    rank = {state: index for index, state in enumerate(PROBLEM_ORDER)}
    listed = [item for item in report.items if item.result.state in rank]
    return sorted(listed, key=lambda item: (rank[item.result.state], *_first_place(item)))


def evidence(result: CheckResult) -> str:
    """What happened, on one line: status, detail or error, and where a redirect leads."""
    parts = [f"HTTP {result.status}"] if result.status is not None else []
    parts += [text for text in (result.detail or result.error,) if text]
    said = " ".join(parts)
    if result.state is LinkState.REDIRECTED and result.final_url and result.final_url not in said:
        parts.append(f"now at {result.final_url}")
    return clean_text("; ".join(dict.fromkeys(parts))) or str(result.state)


def summary(report: CheckReport) -> str:
    """`10 links: 2 broken, 1 unverified, 7 ok` in the states' order of seriousness."""
    counts = report.counts()
    order = (*PROBLEM_ORDER, LinkState.OK, LinkState.SKIPPED)
    parts = [f"{counts[state]} {state}" for state in order if counts.get(state)]
    return plural(len(report.items), "link") + (f": {', '.join(parts)}" if parts else "")


def render_check_markdown(report: CheckReport, fail_on: Iterable[str] = DEFAULT_FAIL_ON) -> str:
    """A PR comment: verdict heading, counts, and a table of the links that need a look."""
    fatal = failing_states(fail_on)
    failed = fails(report, fail_on)
    verdict = ("failed" if failed else "could not verify" if report.network_down else "passed")
    guides = ", ".join(md_code(guide) for guide in report.guides)
    lines = [f"### linkfresh check {verdict}", "", f"{summary(report)} in {guides or 'no guide'}."]
    if report.network_down:
        lines += ["", "> **Network unreachable**: no host answered, so no web link is marked "
                  "broken."]
    listed = problems(report)
    if listed:
        lines += ["", "| State | Link | Where | What happened |", "|---|---|---|---|"]
        for item in listed[:MARKDOWN_ROWS]:
            state = item.result.state
            label = f"**{state}**" if state in fatal else str(state)
            where = "<br>".join(escape_text(f"{link.guide}:{link.line}")
                                for link in _places(item)[:3]) or "–"
            lines.append(f"| {label} | {md_url(item.result.url)} | {where} | "
                         f"{escape_text(evidence(item.result), limit=160)} |")
        if len(listed) > MARKDOWN_ROWS:
            lines.append(f"\n… and {len(listed) - MARKDOWN_ROWS} more (see the full report).")
    return "\n".join(lines) + "\n"


def escape_data(value: str) -> str:
    """A workflow command's message, escaped as actions/toolkit's `escapeData` does."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A workflow command's property value (`escapeProperty`): also `:` and `,`."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render_check_github(report: CheckReport, fail_on: Iterable[str] = DEFAULT_FAIL_ON, *,
                        paths: Mapping[str, str] | None = None) -> str:
    """GitHub Actions workflow commands: one annotation per place a problem link is written.

    Failing states are `::error`, redirects `::notice`, the rest `::warning`; a plain summary
    line follows. Newlines in web text are escaped, so it can never start a command.
    `paths` maps a guide's name to its path from the repository root (`file=` needs that).
    """
    paths = paths or {}
    fatal = failing_states(fail_on)
    lines = []
    if report.network_down:
        lines.append("::error title=linkfresh::" + escape_data(
            "network unreachable: could not verify any link"))
    for item in problems(report):
        state = item.result.state
        level = ("error" if state in fatal else
                 "notice" if state is LinkState.REDIRECTED else "warning")
        message = escape_data(f"{item.result.url} ({evidence(item.result)})")
        title = escape_property(_TITLES[state])
        for link in _places(item) or (None,):
            where = (f"file={escape_property(paths.get(link.guide, link.guide))},line={link.line},"
                     if link is not None else "")
            lines.append(f"::{level} {where}title={title}::{message}")
    lines.append(f"linkfresh check: {summary(report)}")
    return "\n".join(lines) + "\n"


def render_check_junit(report: CheckReport, fail_on: Iterable[str] = DEFAULT_FAIL_ON, *,
                       paths: Mapping[str, str] | None = None) -> str:
    """JUnit XML: a testsuite per guide, a testcase per place a link is written.

    Failing states become `<failure>` (or `<error>` for 5xx/timeouts); skipped links and
    problems `fail_on` does not make fatal are `<skipped>`; a redirect passes with a note.
    """
    fatal = failing_states(fail_on)
    suites: dict[str, list[tuple[Link | None, LinkReport]]] = {guide: [] for guide in report.guides}
    for item in sorted(report.items, key=_first_place):
        for link in _places(item) or (None,):
            suites.setdefault(link.guide if link else "(no guide)", []).append((link, item))
    root = ET.Element("testsuites", name="linkfresh check")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for guide, cases in suites.items():
        suite = ET.SubElement(root, "testsuite", name=_xml(guide),
                              timestamp=_utc(report.started_at))
        counts = dict.fromkeys(totals, 0)
        elapsed = 0.0
        for link, item in cases:
            outcome = _testcase(suite, link, item, fatal, paths or {})
            counts["tests"] += 1
            if outcome in counts:
                counts[outcome] += 1
            elapsed += item.result.elapsed_ms / 1000
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", f"{elapsed:.3f}")
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{(report.finished_at - report.started_at).total_seconds():.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _testcase(suite: ET.Element, link: Link | None, item: LinkReport,
              fatal: frozenset[LinkState], paths: Mapping[str, str]) -> str:
    """Add one testcase; returns its outcome: failures, errors, skipped or passed."""
    result = item.result
    case = ET.SubElement(suite, "testcase", name=_xml(
        f"line {link.line}: {result.url}" if link else result.url))
    case.set("classname", _xml(" > ".join(link.section) if link and link.section else "guide"))
    if link is not None:
        case.set("file", _xml(paths.get(link.guide, link.guide)))
        case.set("line", str(link.line))
    case.set("time", f"{result.elapsed_ms / 1000:.3f}")
    message = _xml(evidence(result))
    state = result.state
    if state in fatal:
        outcome = "errors" if state in (LinkState.ERROR, LinkState.TIMEOUT) else "failures"
        tag = "error" if outcome == "errors" else "failure"
        ET.SubElement(case, tag, message=message, type=str(state)).text = _xml(_details(result))
        return outcome
    if state not in (LinkState.OK, LinkState.REDIRECTED):  # a problem, but not a fatal one
        ET.SubElement(case, "skipped", message=_xml(f"{state}: {evidence(result)}"))
        return "skipped"
    if state is LinkState.REDIRECTED:
        ET.SubElement(case, "system-out").text = _xml(_details(result))
    return "passed"


def _details(result: CheckResult) -> str:
    lines = [f"{result.url}: {result.state}", evidence(result)]
    lines += [f"{hop.status} {hop.url} -> {hop.location}" for hop in result.chain]
    return "\n".join(lines)


def _places(item: LinkReport) -> list[Link]:
    return sorted(item.links, key=lambda link: (link.guide, link.line))


def _first_place(item: LinkReport) -> tuple[str, int, str]:
    first = min(((link.guide, link.line) for link in item.links), default=("", 0))
    return (first[0], first[1], item.result.url)


def _xml(text: str) -> str:
    """Drop characters XML 1.0 cannot carry at all (§2.2); ElementTree escapes the rest."""
    return "".join(
        char for char in text
        if char in "\t\n\r" or ("\x20" <= char <= "\ud7ff") or ("\ue000" <= char <= "\ufffd")
        or char >= "\U00010000"
    )


def _utc(moment: datetime) -> str:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")
