"""Rewriting link targets in guide text (pure): what `linkfresh fix` changes, and the diff."""

from __future__ import annotations

import difflib
import html
from collections.abc import Iterable, Mapping

from linkfresh.collector.types import Link, LinkSource

_NEEDS_ANGLE_BRACKETS = set(" \t<>")


def markdown_destination(url: str) -> str:
    """`url` written safely as a CommonMark link destination (§6.3)."""
    depth = 0
    balanced = True
    for char in url:
        depth += (char == "(") - (char == ")")
        balanced = balanced and depth >= 0
    if balanced and depth == 0 and not _NEEDS_ANGLE_BRACKETS & set(url):
        return url
    return "<" + url.replace("\\", "\\\\").replace("<", "%3C").replace(">", "%3E") + ">"


def replacement_for(link: Link, target: str) -> str:
    """How `target` is written in place of `link.written_url`, for the link's syntax."""
    if link.source is LinkSource.HTML:
        return html.escape(target, quote=True)
    if link.source in (LinkSource.AUTOLINK, LinkSource.BARE):
        return target.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")
    destination = markdown_destination(target)
    # Already inside `<...>` in the source: the brackets are not part of the span.
    return destination[1:-1] if destination.startswith("<") else destination


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
        replacement = replacement_for(link, target)
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
