"""Markdown guide -> `Guide`: front matter, sections, steps, topics and link occurrences.

A real CommonMark parser (markdown-it-py) decides what is a link, so code spans and
fenced code never yield links; `spans` finds where each destination is written.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import yaml
from markdown_it import MarkdownIt
from markdown_it.common.utils import unescapeAll
from markdown_it.tree import SyntaxTreeNode

from linkfresh.collector.guide.spans import (
    LineIndex,
    Span,
    html_anchors,
    inline_destinations,
    reference_definitions,
)
from linkfresh.collector.guide.unwrap import link_kind, normalise, unwrap
from linkfresh.collector.types import Guide, GuideTopic, Link, LinkKind, LinkSource, NamedResource

_FRONT_MATTER_FENCE = re.compile(r"---[ \t]*")
_FRONT_MATTER_END = re.compile(r"(?:---|\.\.\.)[ \t]*")
_DISABLE_NEXT = "linkfresh-disable-next-line"
_DISABLE = re.compile(r"<!--\s*linkfresh-(disable|enable)\s*-->")
_TOPICS_LABEL = "topics"
_RESOURCES_LABEL = "resources"


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"linkify": True}).enable("linkify")
    # Only URLs with a scheme are bare links: "Fast.ai" in prose is a name, not a link.
    md.linkify.set({"fuzzy_link": False, "fuzzy_email": False})
    return md


_MD = _markdown()


def parse_guide(text: str, path: str = "<guide>") -> Guide:
    """Parse guide `text` (as decoded from `path`) into a `Guide`. Pure; never raises."""
    lines = LineIndex(text)
    front_matter, body_from, warnings = _front_matter(text, lines, path)
    # Blank the front matter rather than cutting it, so markdown-it's line numbers stay ours.
    body = "\n" * body_from + text[lines.offset(body_from) :]
    title = str(front_matter.get("title") or "").strip()
    walker = _Walker(text, lines, path, title, _disabled_lines(text))
    walker.visit(SyntaxTreeNode(_MD.parse(body, walker.env)))
    links = sorted(walker.links, key=lambda link: (link.line, walker.order[id(link)]))
    return Guide(
        path=path,
        title=title,
        front_matter=front_matter,
        links=tuple(links),
        topics=tuple(walker.topics),
        resources=tuple(walker.resources),
        steps=tuple(dict.fromkeys(walker.steps)),
        warnings=tuple(warnings),
    )


def _front_matter(
    text: str, lines: LineIndex, path: str
) -> tuple[dict[str, object], int, list[str]]:
    """YAML front matter, the 0-based line the body starts on, and warnings."""
    first_line_end = lines.offset(1)
    if not _FRONT_MATTER_FENCE.fullmatch(text[:first_line_end].rstrip("\r\n").lstrip("\ufeff")):
        return {}, 0, []
    for number in range(1, len(lines.starts)):
        line = text[lines.offset(number) : lines.offset(number + 1)].rstrip("\r\n")
        if _FRONT_MATTER_END.fullmatch(line):
            source = text[first_line_end : lines.offset(number)]
            try:
                data = yaml.safe_load(source)
            except yaml.YAMLError as error:
                mark = getattr(error, "problem_mark", None)
                where = f"{path}:{mark.line + 2}" if mark else path
                return {}, number + 1, [f"{where}: front matter is not valid YAML; ignored"]
            if data is not None and not isinstance(data, dict):
                return {}, number + 1, [f"{path}:1: front matter is not a mapping; ignored"]
            return dict(data or {}), number + 1, []
    return {}, 0, [f"{path}:1: front matter is never closed; read as markdown"]


def _disabled_lines(text: str) -> frozenset[int]:
    """1-based lines switched off by `linkfresh-disable*` comments."""
    disabled: set[int] = set()
    switched_off = False
    for number, line in enumerate(text.splitlines(), start=1):
        if switched_off:
            disabled.add(number)
        if _DISABLE_NEXT in line:
            disabled.add(number + 1)
        for match in _DISABLE.finditer(line):
            switched_off = match.group(1) == "disable"
    return frozenset(disabled)


def _plain_text(node: SyntaxTreeNode) -> str:
    """The visible text of an inline subtree."""
    if node.type in ("text", "code_inline", "html_inline"):
        return node.content if node.type != "html_inline" else ""
    if node.type in ("softbreak", "hardbreak"):
        return " "
    return "".join(_plain_text(child) for child in node.children)


def _lead_label(inline: SyntaxTreeNode) -> tuple[str, str] | None:
    """For `**Label:** rest` return ("Label", "rest"); None when not strong-led."""
    children = [c for c in inline.children if c.type != "text" or c.content.strip()]
    if not children or children[0].type != "strong":
        return None
    label = _plain_text(children[0]).strip()
    rest = "".join(_plain_text(child) for child in children[1:]).strip()
    if label.endswith(":"):
        return label[:-1].strip(), rest
    if rest.startswith(":"):
        return label, rest[1:].strip()
    return None


def _first_inline(item: SyntaxTreeNode) -> SyntaxTreeNode | None:
    for child in item.children:
        if child.type == "paragraph" and child.children:
            return child.children[0]
    return None


@dataclass
class _Walker:
    """Walks the syntax tree once, collecting links, steps, topics and named resources."""

    text: str
    lines: LineIndex
    path: str
    title: str
    disabled: frozenset[int]
    env: dict[str, object] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    order: dict[int, int] = field(default_factory=dict)
    topics: list[GuideTopic] = field(default_factory=list)
    resources: list[NamedResource] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    step: str | None = None
    label: str | None = None
    _references: dict[str, Span] | None = None

    @property
    def section(self) -> tuple[str, ...]:
        head = (self.title,) if self.title else ()
        tail = (self.step,) if self.step else ()
        return head + tuple(text for _, text in self.headings) + tail

    def visit(self, node: SyntaxTreeNode) -> None:
        match node.type:
            case "heading":
                self._heading(node)
            case "list_item":
                self._list_item(node)
            case "inline":
                self._inline(node)
            case "html_block":
                self._html_block(node)
            case _:
                for child in node.children:
                    self.visit(child)

    def _heading(self, node: SyntaxTreeNode) -> None:
        level = int(node.tag[1])
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        text = " ".join(_plain_text(node).split())
        self.headings.append((level, text))
        self.step = None
        for child in node.children:
            self.visit(child)

    def _list_item(self, node: SyntaxTreeNode) -> None:
        saved_step, saved_label = self.step, self.label
        inline = _first_inline(node)
        lead = _lead_label(inline) if inline is not None else None
        ordered = node.parent is not None and node.parent.type == "ordered_list"
        if ordered and lead is not None:
            self.step = f"{node.info}. {lead[0]}" if node.info else lead[0]
            self.steps.append(self.step)
            self.label = None
        elif inline is not None:
            self._record_item(node, inline, lead)
            if lead is not None and not lead[1]:
                self.label = lead[0].casefold()
        for child in node.children:
            self.visit(child)
        self.step, self.label = saved_step, saved_label

    def _record_item(
        self, node: SyntaxTreeNode, inline: SyntaxTreeNode, lead: tuple[str, str] | None
    ) -> None:
        line = (node.map or (0, 0))[0] + 1
        if self.label == _TOPICS_LABEL and self.step:
            name, description = lead if lead else (" ".join(_plain_text(inline).split()), "")
            self.topics.append(
                GuideTopic(name.rstrip(". "), self.step, self.section, line, description)
            )
        elif self.label == _RESOURCES_LABEL and lead is not None:
            has_link = any(child.type == "link" for child in inline.walk())
            self.resources.append(NamedResource(lead[0], lead[1], line, self.section, has_link))

    # -- links -----------------------------------------------------------------------

    def _region(self, node: SyntaxTreeNode) -> tuple[int, int]:
        start, end = node.map or (0, 0)
        return self.lines.offset(start), self.lines.offset(end)

    def _inline(self, node: SyntaxTreeNode) -> None:
        start, end = self._region(node)
        cursor = start
        for child in node.walk():
            if child.type == "link":
                cursor = self._link(child, cursor, end)
        if any(c.type == "html_inline" and c.content.lower().startswith("<a") for c in node.walk()):
            for anchor in html_anchors(self.text, start, end):
                self._add(
                    anchor.span, html.unescape(self._raw(anchor.span)), anchor.text, LinkSource.HTML
                )

    def _html_block(self, node: SyntaxTreeNode) -> None:
        start, end = self._region(node)
        for anchor in html_anchors(self.text, start, end):
            self._add(
                anchor.span, html.unescape(self._raw(anchor.span)), anchor.text, LinkSource.HTML
            )

    def _raw(self, span: Span) -> str:
        return self.text[span.start : span.end]

    def _link(self, node: SyntaxTreeNode, cursor: int, end: int) -> int:
        href = str(node.attrs.get("href", ""))
        text = " ".join(_plain_text(node).split())
        if node.markup in ("autolink", "linkify"):
            source = LinkSource.AUTOLINK if node.markup == "autolink" else LinkSource.BARE
            written = _plain_text(node)
            position = self.text.find(written, cursor, end)
            if position == -1:
                self._add(None, href, text, source, cursor)
                return cursor
            span = Span(position, position + len(written))
            self._add(span, written if source is LinkSource.BARE else href, text, source)
            return span.end
        for span in inline_destinations(self.text, cursor, end):
            raw = self._raw(span)
            # Most destinations are written as markdown-it normalises them: skip the work.
            if raw == href or _MD.normalizeLink(unescapeAll(raw)) == href:
                self._add(span, unescapeAll(raw), text, LinkSource.INLINE)
                return span.end
        for span in self.references.values():
            raw = self._raw(span)
            if _MD.normalizeLink(unescapeAll(raw)) == href:
                self._add(span, unescapeAll(raw), text, LinkSource.REFERENCE, cursor)
                return cursor
        self._add(None, href, text, LinkSource.INLINE, cursor)
        return cursor

    @property
    def references(self) -> dict[str, Span]:
        if self._references is None:
            self._references = reference_definitions(self.text)
        return self._references

    def _add(
        self,
        span: Span | None,
        destination: str,
        text: str,
        source: LinkSource,
        at: int | None = None,
    ) -> None:
        written = self._raw(span) if span is not None else destination
        line = self.lines.line_of(at if at is not None else span.start if span else 0)
        kind = link_kind(destination)
        unwrapped = unwrap(destination, text) if kind is LinkKind.HTTP else None
        target = unwrapped.url if unwrapped else destination.strip()
        link = Link(
            url=normalise(target),
            target=target,
            written_url=written,
            text=text,
            guide=self.path,
            line=line,
            section=self.section,
            kind=link_kind(target),
            source=source,
            unwrapped_by=unwrapped.rules if unwrapped else (),
            flags=unwrapped.flags if unwrapped else (),
            disabled=line in self.disabled,
            span=(span.start, span.end) if span is not None else None,
        )
        self.order[id(link)] = len(self.links)
        self.links.append(link)
