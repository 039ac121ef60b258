"""Markdown guide -> `Guide`: front matter, sections, steps, topics and link occurrences.

A CommonMark parser (pulldown-cmark, see `markdown`) decides what is a link and where its
destination is written, so code spans and fenced code never yield links and `fix`
rewrites exactly the characters each place names.
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass, field

import yaml

from linkfresh.collector.guide.extract import Extractor, Found, plain_text
from linkfresh.collector.guide.markdown import INLINE, Node, parse_tree
from linkfresh.collector.guide.spans import LineIndex
from linkfresh.collector.guide.unwrap import link_kind, normalise, unwrap
from linkfresh.collector.types import Guide, GuideTopic, Link, LinkKind, NamedResource

_FRONT_MATTER_FENCE = re.compile(r"---[ \t]*")
_FRONT_MATTER_END = re.compile(r"(?:---|\.\.\.)[ \t]*")
_DISABLE_NEXT = "linkfresh-disable-next-line"
_DISABLE = re.compile(r"<!--\s*linkfresh-(disable|enable)\s*-->")
_ITEM_NUMBER = re.compile(r"[ \t]*(\d{1,9})[.)]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_TOPICS_LABEL = "topics"
_RESOURCES_LABEL = "resources"


def parse_guide(text: str, path: str = "<guide>") -> Guide:
    """Parse guide `text` (as decoded from `path`) into a `Guide`. Pure; never raises."""
    # A big guide makes about a million small objects and no cyclic garbage: the cyclic
    # collector, run again and again over all of them, would double the parse time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _parse(text, path)
    finally:
        if collecting:
            gc.enable()


def _parse(text: str, path: str) -> Guide:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: never from a file, but never a crash
            text = _SURROGATE.sub("\ufffd", text)
    lines = LineIndex(text)
    front_matter, body_from, warnings = _front_matter(text, lines, path)
    base = lines.offset(body_from)
    body = text[base:]
    title = str(front_matter.get("title") or "").strip()
    walker = _Walker(text, lines, path, title, _disabled_lines(text), Extractor(text, body, base))
    walker.visit(parse_tree(body, base))
    return Guide(
        path=path,
        title=title,
        front_matter=front_matter,
        links=tuple(link for _, link in sorted(walker.links, key=lambda pair: pair[0])),
        topics=tuple(walker.topics),
        resources=tuple(walker.resources),
        steps=tuple(dict.fromkeys(walker.steps)),
        warnings=tuple(warnings + walker.warnings),
        headings=tuple(walker.heading_texts),
        anchor_ids=tuple(walker.extractor.ids),
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


def _lead_label(inline: list[Node]) -> tuple[str, str] | None:
    """For `**Label:** rest` return ("Label", "rest"); None when not strong-led."""
    children = [c for c in inline if c.kind != "text" or c.value.strip()]
    if not children or children[0].kind != "strong":
        return None
    label = plain_text(children[0]).strip()
    rest = "".join(plain_text(child) for child in children[1:]).strip()
    if label.endswith(":"):
        return label[:-1].strip(), rest
    if rest.startswith(":"):
        return label, rest[1:].strip()
    return None


def _is_link(node: Node) -> bool:
    """A link of any syntax: markdown, `<a href>`, or a bare URL in the text."""
    if node.kind == "link":
        return True
    if node.kind == "inline_html":
        return node.value[:2].lower() == "<a" and "href" in node.value.lower()
    return node.kind == "text" and "://" in node.value


def _inline_runs(node: Node) -> list[tuple[bool, list[Node] | Node]]:
    """A container's children with consecutive inline nodes grouped (a tight list item
    holds its text directly, not in a paragraph): (True, run) or (False, block)."""
    runs: list[tuple[bool, list[Node] | Node]] = []
    for child in node.children:
        if child.kind in INLINE:
            if runs and runs[-1][0]:
                runs[-1][1].append(child)  # type: ignore[union-attr]
            else:
                runs.append((True, [child]))
        else:
            runs.append((False, child))
    return runs


def _first_inline(item: Node) -> list[Node] | None:
    for is_run, part in _inline_runs(item):
        if is_run:
            return part  # type: ignore[return-value]
        if isinstance(part, Node) and part.kind == "paragraph" and part.children:
            return part.children
    return None


@dataclass
class _Walker:
    """Walks the syntax tree once, collecting links, steps, topics and named resources."""

    text: str
    lines: LineIndex
    path: str
    title: str
    disabled: frozenset[int]
    extractor: Extractor
    links: list[tuple[int, Link]] = field(default_factory=list)
    topics: list[GuideTopic] = field(default_factory=list)
    resources: list[NamedResource] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    heading_texts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    step: str | None = None
    label: str | None = None
    quoted: int = 0

    _section: tuple[str, ...] | None = None
    _section_key: tuple[int, str | None] | None = None
    _heading_count: int = 0

    @property
    def section(self) -> tuple[str, ...]:
        # Links far outnumber headings and steps: build the path once per change.
        key = (self._heading_count, self.step)
        if self._section is None or key != self._section_key:
            head = (self.title,) if self.title else ()
            tail = (self.step,) if self.step else ()
            self._section = head + tuple(text for _, text in self.headings) + tail
            self._section_key = key
        return self._section

    def visit(self, node: Node) -> None:
        match node.kind:
            case "heading":
                self._heading(node)
            case "item":
                self._list_item(node)
            case "paragraph":
                self._inline(node.children)
            case "html_block":
                self._add_all(self.extractor.html_block(node))
            case "code_block":
                pass
            case "blockquote":
                self.quoted += 1
                self._children(node)
                self.quoted -= 1
            case _:
                self._children(node)

    def _children(self, node: Node) -> None:
        for is_run, part in _inline_runs(node):
            if is_run:
                self._inline(part)  # type: ignore[arg-type]
            else:
                self.visit(part)  # type: ignore[arg-type]

    def _heading(self, node: Node) -> None:
        level = int(node.info.get("level", 1))
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        # Badges (images) are not part of a section's name.
        written = "".join(plain_text(child, images=False) for child in node.children)
        self.heading_texts.append(written.strip())
        self.headings.append((level, " ".join(written.split())))
        self._heading_count += 1
        self.step = None
        self._inline(node.children)

    def _list_item(self, node: Node) -> None:
        saved_step, saved_label = self.step, self.label
        inline = _first_inline(node)
        lead = _lead_label(inline) if inline is not None else None
        number = _ITEM_NUMBER.match(self.text, node.start)
        if number and lead is not None:
            self.step = f"{number.group(1)}. {lead[0]}"
            self.steps.append(self.step)
            self.label = None
        elif inline is not None:
            self._record_item(node, inline, lead)
            if lead is not None and not lead[1]:
                self.label = lead[0].casefold()
        self._children(node)
        self.step, self.label = saved_step, saved_label

    def _record_item(self, node: Node, inline: list[Node], lead: tuple[str, str] | None) -> None:
        line = self.lines.line_of(node.start)
        if self.label == _TOPICS_LABEL and self.step:
            name, description = lead if lead else (
                " ".join("".join(plain_text(child) for child in inline).split()), "")
            self.topics.append(
                GuideTopic(name.rstrip(". "), self.step, self.section, line, description)
            )
        elif self.label == _RESOURCES_LABEL and lead is not None:
            has_link = any(_is_link(n) for child in inline for n in child.walk())
            self.resources.append(NamedResource(lead[0], lead[1], line, self.section, has_link))

    # -- links -----------------------------------------------------------------------

    def _inline(self, nodes: list[Node]) -> None:
        self._add_all(self.extractor.inline(nodes, quoted=self.quoted > 0))

    def _add_all(self, found: list[Found]) -> None:
        for place in found:
            self._add(place)

    def _add(self, found: Found) -> None:
        span = found.span
        written = self.text[span.start : span.end] if span is not None else found.destination
        line = self.lines.line_of(found.at)
        if span is None:
            self.warnings.append(
                f"{self.path}:{line}: cannot tell where the destination of this link is "
                "written; `fix` leaves it alone"
            )
        destination = found.destination
        kind = link_kind(destination)
        unwrapped = unwrap(destination, found.text) if kind is LinkKind.HTTP else None
        target = unwrapped.url if unwrapped else destination.strip()
        link = Link(
            url=normalise(target),
            target=target,
            written_url=written,
            text=found.text,
            guide=self.path,
            line=line,
            section=self.section,
            kind=link_kind(target) if unwrapped and unwrapped.rules else kind,
            source=found.source,
            unwrapped_by=unwrapped.rules if unwrapped else (),
            flags=unwrapped.flags if unwrapped else (),
            disabled=line in self.disabled,
            span=(span.start, span.end) if span is not None else None,
        )
        self.links.append((found.at, link))
