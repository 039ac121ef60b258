"""Markdown source -> a light syntax tree whose every node knows its character span.

Parsed by pulldown-cmark (the `pyromark` wheel), a CommonMark parser that reports the source
range of every event, inline ones included, and the span of each reference definition.
Chosen over: markdown-it-py (used before) reports only blocks' line ranges, so inline
positions mean re-deriving container prefixes by hooking its rules, and it parses a 1 MB
reference-heavy changelog in 0.9-1.3 s before any work of ours, under the 1 MB/s target;
markdown-it-pyrs (Rust, inline source maps, 4-10 MB/s) has had no release since 2024 and
left bare URLs unlinked when we tried it. pulldown-cmark yields that changelog's events in 0.02 s
(bench/links_bench.py measures the whole `links` command).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyromark

# Inline node kinds: everything else is a block.
INLINE = frozenset({
    "text", "code", "inline_html", "softbreak", "hardbreak", "link", "image", "emphasis",
    "strong", "strikethrough",
})
_LEAVES = {"Text": "text", "Code": "code", "InlineHtml": "inline_html", "Html": "html"}
_BREAKS = {"SoftBreak": "softbreak", "HardBreak": "hardbreak", "Rule": "rule"}
_CHUNK = 128
# Containers nested deeper than this are flattened into their parent (the walk recurses).
MAX_DEPTH = 64
# The children of every leaf: shared, never appended to.
_LEAF: list[Node] = []


_NO_INFO: dict[str, Any] = {}


class Node:
    """One element: `kind`, its source span `[start, end)` in characters, and its parts.

    `value` is the text of a leaf (text, code, html); `info` holds what the parser said
    about a container (a link's type, destination and label; a heading's level).
    Plain slots, no per-node defaults: a 10 MB guide makes about a million of them.
    """

    __slots__ = ("children", "end", "info", "kind", "start", "value")

    def __init__(
        self,
        kind: str,
        start: int,
        end: int,
        value: str = "",
        info: dict[str, Any] = _NO_INFO,
        children: list[Node] | None = None,
    ) -> None:
        self.kind, self.start, self.end, self.value, self.info = kind, start, end, value, info
        self.children: list[Node] = children if children is not None else []

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def __repr__(self) -> str:
        return f"Node({self.kind!r}, {self.start}, {self.end}, {self.value!r})"


class CharOffsets:
    """UTF-8 byte offsets (what pulldown-cmark reports) -> character offsets, in O(chunk)."""

    def __init__(self, text: str, base: int = 0) -> None:
        self.base = base
        self.ascii = text.isascii()
        if self.ascii:
            return
        self.data = text.encode("utf-8", errors="surrogatepass")
        self.byte_starts: list[int] = []
        position = 0
        for start in range(0, len(text), _CHUNK):
            self.byte_starts.append(position)
            position += len(text[start : start + _CHUNK].encode("utf-8", errors="surrogatepass"))

    def __call__(self, offset: int) -> int:
        if self.ascii:
            return self.base + offset
        chunk = bisect_right(self.byte_starts, offset) - 1
        start = self.byte_starts[chunk]
        piece = self.data[start:offset].decode("utf-8", errors="surrogatepass")
        return self.base + chunk * _CHUNK + len(piece)


_SIMPLE_TAGS = {"Paragraph": "paragraph", "Item": "item", "HtmlBlock": "html_block",
                "Emphasis": "emphasis", "Strong": "strong", "Strikethrough": "strikethrough"}


def _kind(tag: Any) -> tuple[str, dict[str, Any]]:
    """The node kind and facts for a `Start` event's tag."""
    if type(tag) is str:
        return _SIMPLE_TAGS.get(tag) or tag.lower(), _NO_INFO
    (name, facts), = tag.items()
    match name:
        case "Heading":
            return "heading", {"level": int(facts["level"][1:])}
        case "List":
            return "list", {"start": facts}
        case "Link" | "Image":
            return name.lower(), dict(facts)
        case "CodeBlock":
            return "code_block", {}
        case "BlockQuote":
            return "blockquote", {}
    return name.lower(), {}


def parse_tree(text: str, base: int = 0) -> Node:
    """The document tree of `text`; spans are offsets into `text` plus `base`."""
    to_char = CharOffsets(text, base)
    ascii_text = to_char.ascii
    root = Node("document", base, base + len(text))
    stack = [root]
    top = root.children
    flattened = 0
    leaves, breaks = _LEAVES, _BREAKS
    for event, span in pyromark.events_with_range(text, merge_text=True):
        if ascii_text:
            start, end = base + span["start"], base + span["end"]
        else:
            start, end = to_char(span["start"]), to_char(span["end"])
        if type(event) is str:
            kind = breaks.get(event)
            if kind:
                top.append(Node(kind, start, end, "", _NO_INFO, _LEAF))
            continue
        for name, payload in event.items():
            if name in leaves:
                top.append(Node(leaves[name], start, end, payload, _NO_INFO, _LEAF))
            elif name == "Start":
                if len(stack) > MAX_DEPTH:
                    flattened += 1
                    continue
                kind, info = _kind(payload)
                node = Node(kind, start, end, "", info, [])
                top.append(node)
                stack.append(node)
                top = node.children
            elif name == "End":
                if flattened:
                    flattened -= 1
                elif len(stack) > 1:
                    stack.pop()
                    top = stack[-1].children
    return root


@dataclass(frozen=True, slots=True)
class Definition:
    """A link reference definition found by the parser: its destination and source span."""

    destination: str
    start: int
    end: int


def definitions(text: str, base: int = 0) -> dict[str, Definition]:
    """Reference definitions by label as written (the first of each label wins)."""
    to_char = CharOffsets(text, base)
    return {
        label: Definition(found["dest"], to_char(found["span"]["start"]),
                          to_char(found["span"]["end"]))
        for label, found in pyromark.reference_definitions(text).items()
    }
