"""Rendering the `linkfresh links` listing: text, JSON and TSV. Formatters return `str`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from linkfresh.collector.types import Link
from linkfresh.reports.json_document import json_document
from linkfresh.reports.wording import plural

LINKS_SCHEMA_VERSION = 1
SECTION_SEPARATOR = " > "


@dataclass(frozen=True, slots=True)
class LinkEntry:
    """One distinct target and every place it is written."""

    url: str
    target: str
    kind: str
    places: tuple[Link, ...]

    @property
    def unwrapped_by(self) -> tuple[str, ...]:
        """Every rule that unwrapped one of the places, in order of first use."""
        return tuple(dict.fromkeys(rule for place in self.places for rule in place.unwrapped_by))

    @property
    def flags(self) -> tuple[str, ...]:
        """Every flag raised at one of the places, in order of first appearance."""
        return tuple(dict.fromkeys(flag for place in self.places for flag in place.flags))


def group_links(links: Iterable[Link]) -> list[LinkEntry]:
    """Group occurrences by normalised URL, in order of first appearance."""
    grouped: dict[str, list[Link]] = {}
    for link in links:
        grouped.setdefault(link.url, []).append(link)
    return [
        LinkEntry(url, places[0].target, str(places[0].kind), tuple(places))
        for url, places in grouped.items()
    ]


def _tsv_cell(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def render_links_text(entries: list[LinkEntry]) -> str:
    lines: list[str] = []
    for entry in entries:
        notes = [entry.kind] if entry.kind != "http" else []
        notes += [f"unwrapped: {'+'.join(entry.unwrapped_by)}"] if entry.unwrapped_by else []
        notes += list(entry.flags)
        notes += ["disabled"] if all(place.disabled for place in entry.places) else []
        lines.append(entry.target + (f"  ({', '.join(notes)})" if notes else ""))
        for place in entry.places:
            lines.append(f"  {place.guide}:{place.line}  {SECTION_SEPARATOR.join(place.section)}")
            if place.text and place.text != entry.target:
                lines.append(f"    text: {place.text}")
            if place.written_url != entry.target:
                lines.append(f"    written: {place.written_url}")
    total = sum(len(entry.places) for entry in entries)
    lines.append(f"{plural(len(entries), 'link')} ({plural(total, 'occurrence')})")
    return "\n".join(lines) + "\n"


def render_links_json(entries: list[LinkEntry]) -> str:
    return json_document("links", LINKS_SCHEMA_VERSION, {
        "links": [
            {
                "url": entry.url,
                "target": entry.target,
                "kind": entry.kind,
                "unwrapped_by": list(entry.unwrapped_by),
                "flags": list(entry.flags),
                "places": [
                    {
                        "guide": place.guide,
                        "line": place.line,
                        "section": list(place.section),
                        "text": place.text,
                        "written_url": place.written_url,
                        "source": str(place.source),
                        "disabled": place.disabled,
                    }
                    for place in entry.places
                ],
            }
            for entry in entries
        ],
    })


def render_links_tsv(entries: list[LinkEntry]) -> str:
    header = [
        "target",
        "url",
        "kind",
        "guide",
        "line",
        "section",
        "text",
        "written_url",
        "unwrapped_by",
    ]
    rows = ["\t".join(header)]
    for entry in entries:
        for place in entry.places:
            cells = [
                entry.target,
                entry.url,
                entry.kind,
                place.guide,
                str(place.line),
                SECTION_SEPARATOR.join(place.section),
                place.text,
                place.written_url,
                "+".join(place.unwrapped_by),
            ]
            rows.append("\t".join(_tsv_cell(cell) for cell in cells))
    return "\n".join(rows) + "\n"
