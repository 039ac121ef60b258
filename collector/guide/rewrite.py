"""Rewriting link targets in guide text (pure): what `linkfresh fix` changes, and the diff."""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Iterable, Mapping

from linkfresh.collector.guide.spans import ENTITY
from linkfresh.collector.types import Link, LinkSource

# Characters a destination cannot hold unbracketed (CommonMark §6.3): whitespace (Unicode's
# too, which the guide parser stops at), controls and pointy brackets.
_PLAIN_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f<>\s]")
# No line ending fits in any destination, and CommonMark reads NUL as U+FFFD (§2.3): those
# are percent-encoded.
_LINE_BREAK = re.compile(r"[\r\n\x00]")
# Autolinks hold no whitespace, controls or pointy brackets and know no escapes (§6.5).
_AUTOLINK_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f<>\s]")
# A bare URL is left bare only when linkify is sure to take all of it and nothing more
# (balanced parentheses included, as in `.../Foo_(bar)`: linkify and GFM keep those).
_BARE_SAFE = re.compile(r"https?://[A-Za-z0-9\-._~:/?#@$&+,;=%()]*[A-Za-z0-9/#=_\-~)]")


def _percent(match: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in match[0].encode("utf-8"))


def _balanced(url: str) -> bool:
    depth = 0
    for char in url:
        depth += (char == "(") - (char == ")")
        if depth < 0:
            return False
    return depth == 0


def markdown_destination(url: str, *, bracketed: bool = False) -> str:
    """`url` written as a CommonMark link destination (§6.3) that reads back as `url`.

    Backslashes and entity-like text are escaped; a URL with whitespace, controls, pointy
    brackets or unbalanced parentheses goes between `<...>` with `<`, `>` escaped; line
    endings, which no destination can hold, are percent-encoded. `bracketed`: the source
    already has the `<...>` around the destination, so only what goes inside is returned.
    """
    # Text a destination would read as an entity reference (§2.5) is escaped.
    escaped = ENTITY.sub(lambda match: "\\" + match[0], url.replace("\\", "\\\\"))
    if not bracketed and url and not _PLAIN_UNSAFE.search(url) and _balanced(url):
        return escaped
    inner = _LINE_BREAK.sub(_percent, escaped).replace("<", "\\<").replace(">", "\\>")
    return inner if bracketed else f"<{inner}>"


def autolink_destination(url: str) -> str:
    """`url` as the inside of an autolink `<...>`: what it cannot hold is percent-encoded."""
    return _AUTOLINK_UNSAFE.sub(_percent, url)


def replacement_for(link: Link, target: str, *, bracketed: bool = False) -> str:
    """How `target` is written in place of `link.written_url`, for the link's syntax.

    `bracketed`: the destination is written between `<` and `>` in the source.
    """
    if link.source is LinkSource.HTML:
        return html.escape(target, quote=True)
    if link.source is LinkSource.AUTOLINK:
        return autolink_destination(target)
    if link.source is LinkSource.BARE:
        # Markup from a redirect must not become markup in the guide: anything linkify might
        # cut short or read as emphasis is written as an autolink instead.
        bare = _BARE_SAFE.fullmatch(target) and _balanced(target)
        return target if bare else f"<{autolink_destination(target)}>"
    return markdown_destination(target, bracketed=bracketed)


def rewrite(text: str, links: Iterable[Link], targets: Mapping[str, str] | None = None) -> str:
    """Return `text` with each wrapped link's destination replaced by its target.

    `targets` maps a link's normalised url to a better target (a permanent redirect's
    destination); without one, only unwrapped wrapper links change. Nothing outside the
    destinations is touched, so line endings, spacing and link texts stay byte for byte.
    """
    targets = targets or {}
    edits: dict[tuple[int, int], str] = {}
    for link in links:
        if link.span is None:
            continue
        target = targets.get(link.url) or (link.target if link.is_wrapped else None)
        if target is None:
            continue
        start, end = link.span
        bracketed = text[start - 1 : start] == "<" and text[end : end + 1] == ">"
        replacement = replacement_for(link, target, bracketed=bracketed)
        if replacement != text[link.span[0] : link.span[1]]:
            edits[link.span] = replacement
    pieces: list[str] = []
    position = 0
    for (start, end), replacement in sorted(edits.items()):
        if start < position:  # overlapping spans cannot happen for distinct links; be safe
            continue
        pieces += [text[position:start], replacement]
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def unified_diff(before: str, after: str, path: str) -> str:
    """A unified diff of the rewrite, as `git diff` would show it."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"a/{path}",
        tofile=f"b/{path}",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
