"""Locating link destinations in markdown source text, by character offset.

markdown-it tells *which* links a block holds but not *where* their destinations are
written; `fix` must rewrite exactly those characters and nothing else, so these pure
helpers find them in the original text (CommonMark §6.3 link destinations).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_REFERENCE_DEF = re.compile(
    r"^ {0,3}\[((?:[^\]\\\n]|\\.){1,999})\]:[ \t]*(?:\r?\n[ \t]*)?(<[^<>\n]*>|\S+)",
    re.MULTILINE,
)
_HTML_ANCHOR = re.compile(
    r"<a\b[^<>]*?\bhref\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'<>`=]+))[^<>]*>(.*?)(?:</a\s*>|$)",
    re.IGNORECASE | re.DOTALL,
)
_TAG = re.compile(r"<[^<>]*>")


@dataclass(frozen=True, slots=True)
class Span:
    """`text[start:end]` is the destination as written (angle brackets excluded)."""

    start: int
    end: int


class LineIndex:
    """Maps between 0-based line numbers and character offsets of a text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def offset(self, line: int) -> int:
        """Offset of the start of 0-based `line` (the text's end past the last line)."""
        return self.starts[line] if line < len(self.starts) else len(self.text)

    def line_of(self, offset: int) -> int:
        """1-based line number of `offset`."""
        low, high = 0, len(self.starts) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self.starts[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        return low + 1


def inline_destinations(text: str, start: int, end: int) -> Iterator[Span]:
    """Every `](destination` written between `start` and `end`, in order."""
    position = text.find("](", start, end)
    while position != -1:
        span = _parse_destination(text, position + 2, end)
        if span is not None:
            yield span
        position = text.find("](", position + 2, end)


def _parse_destination(text: str, position: int, end: int) -> Span | None:
    # Optional whitespace, including at most one line ending, before the destination.
    while position < end and text[position] in " \t":
        position += 1
    if position < end and text[position] in "\r\n":
        position += 2 if text.startswith("\r\n", position) else 1
        while position < end and text[position] in " \t":
            position += 1
    if position >= end:
        return None
    if text[position] == "<":
        close = position + 1
        while close < end and text[close] not in "<>\n":
            close += 2 if text[close] == "\\" else 1
        if close < end and text[close] == ">":
            return Span(position + 1, close)
        return None
    depth, cursor = 0, position
    while cursor < end:
        char = text[cursor]
        if char == "\\" and cursor + 1 < end and text[cursor + 1] in _ASCII_PUNCT:
            cursor += 2
            continue
        if char.isspace() or ord(char) < 0x20:
            break
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                break
            depth -= 1
        cursor += 1
    return Span(position, cursor) if cursor > position else None


def reference_definitions(text: str) -> dict[str, Span]:
    """Reference definitions (`[label]: url`) by normalised label."""
    found: dict[str, Span] = {}
    for match in _REFERENCE_DEF.finditer(text):
        label = normalise_label(match.group(1))
        start, end = match.span(2)
        if text[start] == "<":
            start, end = start + 1, end - 1
        found.setdefault(label, Span(start, end))
    return found


def normalise_label(label: str) -> str:
    """CommonMark label matching: case-folded, inner whitespace collapsed."""
    return " ".join(label.split()).casefold()


@dataclass(frozen=True, slots=True)
class HtmlAnchor:
    span: Span
    text: str


def html_anchors(text: str, start: int, end: int) -> Iterator[HtmlAnchor]:
    """`<a href=...>text</a>` written between `start` and `end`."""
    for match in _HTML_ANCHOR.finditer(text, start, end):
        group = next(g for g in (1, 2, 3) if match.group(g) is not None)
        inner = _TAG.sub("", match.group(4) or "")
        yield HtmlAnchor(Span(*match.span(group)), " ".join(inner.split()))
