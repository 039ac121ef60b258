"""Rendering a `CheckReport` as text (for people) and JSON (for machines); both return `str`.

JSON (docs/schemas/check.schema.json, CHECK_REPORT_SCHEMA_VERSION = 1), keys always present:
  schema ("linkfresh.check"), schema_version, guides [str], started_at, finished_at (UTC, Z),
  network_down (bool), summary {total, ok, redirected, broken, error, timeout, unverified,
  skipped, parked, changed}, results [{url, state, status, final_url,
  chain [{url, status, location}], error, error_class, detail, elapsed_ms, checked_at, etag,
  last_modified, title, requests,
  occurrences [{guide, line, section [str], text, written_url}]}].
Results are ordered by first occurrence (guide, line), then URL. New keys may be added
within a version; renaming or removing one bumps it.
"""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from linkfresh.collector.types import CheckResult, LinkState
from linkfresh.reports.check_formats import summary
from linkfresh.reports.check_model import CHECK_REPORT_SCHEMA_VERSION, CheckReport, LinkReport
from linkfresh.reports.json_document import json_document, utc_iso
from linkfresh.reports.wording import plural

UNREACHABLE_MESSAGE = "could not verify: network unreachable"
# Most serious first: the order of the listing and of the summary table.
STATE_ORDER = (
    LinkState.BROKEN, LinkState.PARKED, LinkState.ERROR, LinkState.TIMEOUT,
    LinkState.REDIRECTED, LinkState.CHANGED, LinkState.UNVERIFIED, LinkState.OK,
    LinkState.SKIPPED,
)
_STYLES = {
    LinkState.BROKEN: "bold red", LinkState.ERROR: "red", LinkState.TIMEOUT: "yellow",
    LinkState.REDIRECTED: "cyan", LinkState.UNVERIFIED: "magenta", LinkState.OK: "green",
    LinkState.SKIPPED: "dim", LinkState.PARKED: "bold red", LinkState.CHANGED: "yellow",
}


def ordered_items(report: CheckReport) -> list[LinkReport]:
    """Items by first occurrence in the guides, then URL: stable across runs."""

    def key(item: LinkReport) -> tuple[str, int, str]:
        first = min(((link.guide, link.line) for link in item.links), default=("", 0))
        return (first[0], first[1], item.result.url)

    return sorted(report.items, key=key)


def _evidence(result: CheckResult) -> str:
    parts = []
    if result.status is not None:
        parts.append(f"HTTP {result.status}")
    if result.detail:
        parts.append(result.detail)
    elif result.error:
        parts.append(result.error)
    if result.final_url and result.final_url != result.url.split("#", 1)[0]:
        parts.append(f"-> {result.final_url}")
    return "; ".join(dict.fromkeys(parts))


def render_check_text(report: CheckReport, color: bool = False, *, brief: bool = False) -> str:
    """Problems first (each with where it stands in the guide), then a summary table;
    `brief` (`-q`): the problems and one summary line, no table."""
    out = io.StringIO()
    console = Console(file=out, force_terminal=color, no_color=not color, width=120,
                      highlight=False, emoji=False)
    if report.network_down:
        console.print(f"[bold red]{UNREACHABLE_MESSAGE}[/]: no host could be reached, "
                      "so no web link is marked broken.")
    for state in STATE_ORDER:
        if state in (LinkState.OK, LinkState.SKIPPED):
            continue
        for item in (i for i in ordered_items(report) if i.result.state is state):
            console.print(f"[{_STYLES[state]}]{state.upper():<10}[/] {escape(item.result.url)}",
                          soft_wrap=True)
            evidence = _evidence(item.result)
            if evidence:
                console.print(f"           {escape(evidence)}", soft_wrap=True)
            for link in sorted(item.links, key=lambda link: (link.guide, link.line)):
                where = " > ".join(link.section)
                console.print(f"           at {escape(link.guide)}:{link.line}"
                              + (f" ({escape(where)})" if where else ""), soft_wrap=True)
    counts = report.counts()
    elapsed = (report.finished_at - report.started_at).total_seconds()
    guides = plural(len(report.guides), "guide")
    if brief:
        console.print(escape(f"{summary(report)} in {guides}, {elapsed:.1f} s"), soft_wrap=True)
        return out.getvalue()
    table = Table(title="linkfresh check", show_footer=True)
    table.add_column("state", footer="total")
    table.add_column("links", justify="right", footer=str(sum(counts.values())))
    for state in STATE_ORDER:
        table.add_row(f"[{_STYLES[state]}]{state}[/]", str(counts.get(state, 0)))
    console.print(table)
    console.print(f"{guides}, {elapsed:.1f} s")
    return out.getvalue()


def _result_json(item: LinkReport) -> dict[str, Any]:
    r = item.result
    return {
        "url": r.url,
        "state": str(r.state),
        "status": r.status,
        "final_url": r.final_url,
        "chain": [{"url": h.url, "status": h.status, "location": h.location} for h in r.chain],
        "error": r.error,
        "error_class": r.error_class,
        "detail": r.detail,
        "elapsed_ms": r.elapsed_ms,
        "checked_at": utc_iso(r.checked_at),
        "etag": r.etag,
        "last_modified": r.last_modified,
        "title": r.title,
        "requests": r.requests,
        "occurrences": [
            {"guide": link.guide, "line": link.line, "section": list(link.section),
             "text": link.text, "written_url": link.written_url}
            for link in sorted(item.links, key=lambda link: (link.guide, link.line))
        ],
    }


def render_check_json(report: CheckReport) -> str:
    """The versioned JSON document described in this module's docstring."""
    counts = report.counts()
    return json_document("check", CHECK_REPORT_SCHEMA_VERSION, {
        "guides": list(report.guides),
        "started_at": utc_iso(report.started_at),
        "finished_at": utc_iso(report.finished_at),
        "network_down": report.network_down,
        "summary": {"total": len(report.items)}
        | {str(state): counts.get(state, 0) for state in LinkState},
        "results": [_result_json(item) for item in ordered_items(report)],
    })
