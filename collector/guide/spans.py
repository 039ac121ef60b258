"""Where a destination is written inside the link or definition the parser located
(CommonMark §6.3, §4.7), and raw HTML read tag by tag for `href`, `id` and `name` (§6.6).
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# The common destination: no spaces, controls, parentheses or backslashes at all.
_PLAIN_DESTINATION = re.compile(r"[^\s()\\\x00-\x1f\x7f]*")
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_BACKSLASH_ESCAPE = re.compile(r"\\([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")
# Only entities CommonMark decodes: named or numeric, with the closing semicolon (§2.5).
ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_ESCAPE_OR_ENTITY = re.compile(_BACKSLASH_ESCAPE.pattern + "|" + ENTITY.pattern)
_ATTRIBUTE = re.compile(
    r"""\s+([a-zA-Z_:][a-zA-Z0-9_.:-]*)(?:\s*=\s*(?:([^"'=<>`\x00-\x20]+)|'([^']*)'|"([^"]*)"))?"""
)
_OPEN_TAG = re.compile(
    r"""<([A-Za-z][A-Za-z0-9-]*)((?:\s+[a-zA-Z_:][a-zA-Z0-9_.:-]*"""
    r"""(?:\s*=\s*(?:[^"'=<>`\x00-\x20]+|'[^']*'|"[^"]*"))?)*)\s*/?>"""
)
_CLOSE_TAG = re.compile(r"</([A-Za-z][A-Za-z0-9-]*)\s*>")
# Markup that is not a tag, and what ends it (an unclosed one runs to the end).
_OTHER_MARKUP = (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"), ("<!", ">"))
# A tag longer than this is not looked for (keeps a block of stray `<` linear).
MAX_TAG = 16 * 1024


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
        return bisect_right(self.starts, offset)


def decode_destination(written: str) -> str:
    """A destination as CommonMark reads it: backslash escapes and entities resolved in one
    pass, left to right, so an escaped `\\&amp;` stays the five characters `&amp;`."""
    if "\\" not in written and "&" not in written:
        return written
    return _ESCAPE_OR_ENTITY.sub(_decoded, written)


def _decoded(match: re.Match[str]) -> str:
    escaped = match.group(1)
    return escaped if escaped is not None else html.unescape(match.group(0))


def _skip_gap(text: str, position: int, end: int, quoted: bool) -> int:
    """Skip spaces, tabs and at most one line ending, with the next line's indentation
    and, when `quoted`, its blockquote markers: what may stand before a destination."""
    while position < end and text[position] in " \t":
        position += 1
    if position < end and text[position] in "\r\n":
        position += 2 if text.startswith("\r\n", position) else 1
        skipped = " \t>" if quoted else " \t"
        while position < end and text[position] in skipped:
            position += 1
    return position


def destination_at(text: str, position: int, end: int) -> Span | None:
    """The destination written at `position` (§6.3): `<...>` or a run without spaces."""
    if position < end and text[position] == "<":
        close = position + 1
        while close < end and text[close] not in "<>\n\r":
            close += 2 if text[close] == "\\" else 1
        if close < end and text[close] == ">":
            return Span(position + 1, close)
        return None
    plain = _PLAIN_DESTINATION.match(text, position, end)
    cursor = plain.end() if plain else position
    if cursor >= end or text[cursor] not in "()\\":
        return Span(position, cursor)
    depth = 0
    while cursor < end:
        char = text[cursor]
        if char == "\\" and cursor + 1 < end and text[cursor + 1] in _ASCII_PUNCT:
            cursor += 2
            continue
        if char in " \t\r\n" or ord(char) < 0x20 or char == "\x7f":
            break
        if char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                break
            depth -= 1
        cursor += 1
    return Span(position, cursor)


def inline_destination(
    text: str, label_end: int, end: int, quoted: bool = False
) -> Span | None:
    """The destination of an inline link whose label closes at or after `label_end`."""
    opening = text.find("](", label_end, end)
    if opening == -1:
        return None
    return destination_at(text, _skip_gap(text, opening + 2, end, quoted), end)


def definition_destination(
    text: str, start: int, end: int, quoted: bool = False
) -> Span | None:
    """The destination of the reference definition `[label]: dest` spanning start..end."""
    position = start + 1
    while position < end and text[position] != "]":
        position += 2 if text[position] == "\\" else 1
    if not text.startswith("]:", position):
        return None
    return destination_at(text, _skip_gap(text, position + 2, end, quoted), end)


@dataclass(frozen=True, slots=True)
class Tag:
    """An HTML tag: name (lower case), whether it closes, and its attributes' value spans."""

    name: str
    closing: bool
    start: int
    end: int
    attributes: dict[str, Span]


def tag_at(text: str, start: int, end: int) -> Tag | None:
    """The open or close tag written exactly at `start` (comments etc. are not tags)."""
    match = _OPEN_TAG.match(text, start, min(end, start + MAX_TAG))
    if match:
        attributes: dict[str, Span] = {}
        for attribute in _ATTRIBUTE.finditer(text, match.start(2), match.end(2)):
            group = next((g for g in (2, 3, 4) if attribute.group(g) is not None), None)
            end = attribute.end()
            value = Span(*attribute.span(group)) if group else Span(end, end)
            attributes.setdefault(attribute.group(1).lower(), value)
        return Tag(match.group(1).lower(), False, start, match.end(), attributes)
    match = _CLOSE_TAG.match(text, start, min(end, start + MAX_TAG))
    if match:
        return Tag(match.group(1).lower(), True, start, match.end(), {})
    return None


def html_tokens(text: str, start: int, end: int) -> Iterator[Tag | Span]:
    """Tags and the text between them in raw HTML; comments and the like are skipped."""
    position = text_from = start
    while True:
        position = text.find("<", position, end)
        if position == -1:
            break
        tag = tag_at(text, position, end)
        if tag is not None:
            if text_from < position:
                yield Span(text_from, position)
            yield tag
            position = text_from = tag.end
            continue
        closer = next((close for open_, close in _OTHER_MARKUP
                       if text.startswith(open_, position)), None)
        if closer is not None:
            if text_from < position:
                yield Span(text_from, position)
            found = text.find(closer, position + 2, end)
            position = text_from = end if found == -1 else found + len(closer)
            continue
        position += 1
    if text_from < end:
        yield Span(text_from, end)
