"""Links out of parsed markdown, each with the exact source span of its destination:
markdown links from the parser's events, bare URLs from plain-text runs, `<a href>` (and
`id`/`name` anchors) from raw HTML read tag by tag, comments and code never included.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from linkify_it import LinkifyIt

from linkfresh.collector.guide.markdown import Definition, Node, definitions
from linkfresh.collector.guide.spans import (
    Span,
    Tag,
    decode_destination,
    definition_destination,
    html_tokens,
    inline_destination,
    tag_at,
)
from linkfresh.collector.types import LinkSource

# Bare links need a scheme: "Fast.ai" in prose is a name, not a link.
_LINKIFY = LinkifyIt().set({"fuzzy_link": False, "fuzzy_email": False})
_BARE_SCHEMES = frozenset({"http:", "https:", "ftp:"})
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-")
# Longest bare URL looked for (keeps a paragraph of bare URLs linear).
MAX_BARE_URL = 64 * 1024
_REFERENCE_TYPES = frozenset({"Reference", "Collapsed", "Shortcut"})


@dataclass(frozen=True, slots=True)
class Found:
    """A link as written: where it stands (`at`), its destination and, if located, its span."""

    at: int
    destination: str
    text: str
    source: LinkSource
    span: Span | None


def normalise_label(label: str) -> str:
    """CommonMark label matching (§4.7): case-folded, inner whitespace collapsed."""
    return " ".join(label.split()).casefold()


def plain_text(node: Node, images: bool = True) -> str:
    """The visible text of an inline subtree (image alt text only with `images`)."""
    if node.kind in ("text", "code"):
        return node.value
    if node.kind in ("softbreak", "hardbreak"):
        return " "
    if node.kind == "inline_html" or (node.kind == "image" and not images):
        return ""
    return "".join(plain_text(child, images) for child in node.children)


def _located(text: str, span: Span | None, destination: str) -> Span | None:
    """`span` when what it covers reads as `destination`, else None."""
    if span is not None and decode_destination(text[span.start : span.end]) == destination:
        return span
    return None


@dataclass
class _Anchor:
    span: Span
    parts: list[str] = field(default_factory=list)


@dataclass
class Extractor:
    """Finds the links of one document; `body` is the markdown the parser read, from `base`."""

    text: str
    body: str
    base: int
    ids: list[str] = field(default_factory=list)
    _definitions: dict[str, tuple[Definition, Span | None]] | None = None
    _found: list[Found] = field(default_factory=list)
    _run: tuple[int, int] | None = None
    _anchor: _Anchor | None = None

    # -- inline content -------------------------------------------------------------------

    def inline(self, nodes: list[Node], quoted: bool = False) -> list[Found]:
        """The links of one paragraph, heading or tight list item."""
        self._found = []
        for node in nodes:
            self._node(node, quoted)
        self._flush_run()
        self._close_anchor()
        return self._found

    def _node(self, node: Node, quoted: bool) -> None:
        kind = node.kind
        if kind == "text":
            if self._run is not None and self._run[1] == node.start:
                self._run = (self._run[0], node.end)
            else:
                self._flush_run()
                self._run = (node.start, node.end)
            self._anchor_text(node.value)
            return
        self._flush_run()
        match kind:
            case "link":
                self._link(node, quoted)
            case "inline_html":
                tag = tag_at(self.text, node.start, node.end)
                if tag is not None:
                    self._tag(tag)
            case "code":
                self._anchor_text(node.value)
            case "softbreak" | "hardbreak":
                self._anchor_text(" ")
            case "image":
                pass  # an image is not a link, and its alt text holds none
            case _:
                for child in node.children:
                    self._node(child, quoted)
                self._flush_run()

    def _anchor_text(self, value: str) -> None:
        if self._anchor is not None:
            self._anchor.parts.append(value)

    def _flush_run(self) -> None:
        """Bare URLs in the text run just ended, read from the source as written.

        As markdown-it's linkify rule does: at each `://`, the scheme is the run of scheme
        characters before it (starting with a letter), and linkify-it matches from there.
        """
        if self._run is None:
            return
        start, end = self._run
        self._run = None
        text = self.text
        position = text.find("://", start, end)
        while position != -1:
            scheme_start = position
            while scheme_start > start and text[scheme_start - 1] in _SCHEME_CHARS:
                scheme_start -= 1
            match = None
            if text[scheme_start : position].isascii() and text[scheme_start].isalpha():
                window = text[scheme_start : min(end, scheme_start + MAX_BARE_URL)]
                match = _LINKIFY.match_at_start(window)
            if match is None or match.schema.lower() not in _BARE_SCHEMES:
                position = text.find("://", position + 3, end)
                continue
            # A trailing `*` belongs to emphasis, not to the URL.
            written = window[: match.last_index].rstrip("*")
            span = Span(scheme_start, scheme_start + len(written))
            self._found.append(Found(span.start, written, written, LinkSource.BARE, span))
            position = text.find("://", max(span.end, position + 3), end)

    def _link(self, node: Node, quoted: bool) -> None:
        info = node.info
        link_type = str(info.get("link_type", ""))
        destination = str(info.get("dest_url", ""))
        text = " ".join(plain_text(node).split())
        self._anchor_text(text)
        span: Span | None = None
        source = LinkSource.INLINE
        if link_type == "Inline":
            label_end = node.children[-1].end if node.children else node.start + 1
            for in_quote in (False, True) if quoted else (False,):
                span = _located(self.text, inline_destination(
                    self.text, label_end, node.end, in_quote), destination)
                if span is not None:
                    break
        elif link_type in _REFERENCE_TYPES:
            source = LinkSource.REFERENCE
            found = self.definition(str(info.get("id", "")))
            if found is not None:
                definition, span = found
                destination = definition.destination
        elif link_type in ("Autolink", "Email"):
            source = LinkSource.AUTOLINK
            span = Span(node.start + 1, node.end - 1)
            if link_type == "Email":
                destination = "mailto:" + destination
        self._found.append(Found(node.start, destination, text, source, span))

    # -- reference definitions -----------------------------------------------------------

    def definition(self, label: str) -> tuple[Definition, Span | None] | None:
        """The definition `label` refers to, and its destination's span."""
        if self._definitions is None:
            self._definitions = {}
            for written, found in definitions(self.body, self.base).items():
                key = normalise_label(written)
                if key not in self._definitions:
                    self._definitions[key] = (found, self._definition_span(found))
        return self._definitions.get(normalise_label(label))

    def _definition_span(self, found: Definition) -> Span | None:
        for quoted in (False, True):
            span = _located(self.text, definition_destination(
                self.text, found.start, found.end, quoted), found.destination)
            if span is not None:
                return span
        return None

    # -- raw HTML --------------------------------------------------------------------------

    def html_block(self, node: Node) -> list[Found]:
        """The `<a href>` links of an HTML block (and the ids it declares)."""
        self._found = []
        pieces = [child for child in node.children if child.kind == "html"]
        groups: list[list[int]] = []
        for piece in pieces:
            if groups and groups[-1][1] == piece.start:
                groups[-1][1] = piece.end
            else:
                groups.append([piece.start, piece.end])
        for start, end in groups:
            for token in html_tokens(self.text, start, end):
                if isinstance(token, Tag):
                    self._tag(token)
                else:
                    self._anchor_text(html.unescape(self.text[token.start : token.end]))
        self._close_anchor()
        return self._found

    def _tag(self, tag: Tag) -> None:
        if tag.closing:
            if tag.name == "a":
                self._close_anchor()
            return
        names = ("id", "name") if tag.name == "a" else ("id",)
        for name in names:
            value = tag.attributes.get(name)
            if value is not None and value.end > value.start:
                self.ids.append(html.unescape(self.text[value.start : value.end]))
        if tag.name == "a":
            self._close_anchor()
            href = tag.attributes.get("href")
            if href is not None:
                self._anchor = _Anchor(href)

    def _close_anchor(self) -> None:
        anchor, self._anchor = self._anchor, None
        if anchor is None:
            return
        destination = html.unescape(self.text[anchor.span.start : anchor.span.end])
        text = " ".join("".join(anchor.parts).split())
        self._found.append(
            Found(anchor.span.start, destination, text, LinkSource.HTML, anchor.span)
        )
