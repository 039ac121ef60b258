"""Escaping text from the web for markdown and HTML, and writing http(s) links safely.

Whatever a page title or feed says, `escape_text` turns it into one line of literal text:
no link, image, heading, list, HTML tag, emphasis, table cell break or autolink.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit

ELLIPSIS = "…"

# ASCII punctuation that starts or closes an inline construct in CommonMark/GFM, or that
# GitHub gives a meaning to: `$` (math), `@` (mentions, email autolinks), `~` (strikethrough),
# `|` (table cells: GFM splits cells before inline parsing, so a bare pipe would break a row).
# `:` is escaped so that `https://...` in a title is never seen whole by an autolinker;
# `{}` so that a Jekyll site serving the guide's digest sees no Liquid `{{ }}`/`{% %}` tag.
_BACKSLASHED = frozenset("\\`*_[]!|~$@:{}")
# Entities rather than backslashes so the text stays safe if it lands in an HTML context.
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
# Characters that open a block when they start a line (heading, list, quote, setext, fence).
_BLOCK_STARTERS = frozenset("#+-=")
_ORDERED_MARKER = re.compile(r"(\d{1,9})([.)])")
# Bidirectional overrides and isolates (the "Trojan Source" characters, CVE-2021-42574):
# they can make the rendered line read differently from its bytes.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_SAFE_SCHEMES = ("http", "https")
# Kept as they are in a destination; everything else outside printable ASCII is encoded.
_URL_SAFE = "/:?#[]@!$&'*+,;=%-._~"


def clean_text(text: str) -> str:
    """`text` on one line: control and bidi characters gone, whitespace runs collapsed.

    This is exactly the text a reader sees once `escape_text(text)` is rendered.
    """
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if char in _BIDI_CONTROLS:
            continue
        # Cc covers NUL, tabs, CR/LF and C1 controls; Zl/Zp are the Unicode line breaks.
        kept.append(" " if category in ("Cc", "Zl", "Zp") else char)
    return " ".join("".join(kept).split())


def shorten(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, ending with an ellipsis when cut."""
    if limit < 1 or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def escape_text(text: str, *, limit: int | None = None, link_label: bool = False) -> str:
    """Escape `text` so that markdown (CommonMark + GFM) and HTML show it literally.

    The result is a single line that renders as one text run equal to
    `clean_text(text)` (cut to `limit` characters), wherever an inline may stand: a
    paragraph, a list item, a table cell or the text of a link. With `link_label` the
    text is only ever used inside `[...]`, where no autolinker runs (links do not nest,
    CommonMark §6.3), so `:` and dots are left alone and URLs stay readable.
    """
    cleaned = clean_text(text)
    if limit is not None:
        cleaned = shorten(cleaned, limit)
    out: list[str] = []
    last = len(cleaned) - 1
    for index, char in enumerate(cleaned):
        if char in _ENTITIES:
            out.append(_ENTITIES[char])
        elif char == ":" and link_label:
            out.append(char)
        elif char in _BACKSLASHED:
            out.append("\\" + char)
        elif char == "/" and not link_label and index > 0 and cleaned[index - 1] == "/":
            # `//host` is a protocol-relative link to linkify; an escaped slash splits it.
            out.append("\\/")
        elif char == "." and not link_label and _inside_word(cleaned, index, last):
            # `example.com` would be autolinked by linkify/GFM; an escaped dot is not a domain.
            out.append("\\.")
        else:
            out.append(char)
    escaped = "".join(out)
    if escaped[:1] in _BLOCK_STARTERS:
        return "\\" + escaped
    marker = _ORDERED_MARKER.match(escaped)
    if marker:
        # `1. x` or `2) x` at the start of a line opens an ordered list.
        return marker.group(1) + "\\" + escaped[marker.end(1) :]
    return escaped


def _is_word(char: str) -> bool:
    """A character linkify may take as part of a domain name: besides letters, digits, `-`
    and `_`, any non-ASCII character that is not a space (`¢.AL` is a domain to it)."""
    return char.isalnum() or char in "-_" or (not char.isascii() and not char.isspace())


def _inside_word(text: str, index: int, last: int) -> bool:
    return 0 < index < last and _is_word(text[index - 1]) and _is_word(text[index + 1])


def safe_url(url: str | None) -> str | None:
    """`url`, trimmed, if it is an absolute http(s) URL with a host and no control characters.

    Inner spaces are allowed (feeds do publish them); `link_destination` encodes them.
    """
    url = (url or "").strip()
    if not url or any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in url):
        return None
    if any(char in _BIDI_CONTROLS for char in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an invalid IPv6 literal
        return None
    if parts.scheme.lower() not in _SAFE_SCHEMES or not parts.hostname:
        return None
    return url


def link_destination(url: str) -> str:
    """`url` as a CommonMark link destination (§6.3) that cannot end the link early.

    Parentheses stay when balanced (Wikipedia URLs stay readable); spaces, `<>`, quotes,
    backslashes, backticks, pipes (table cells) and non-ASCII are percent-encoded.
    """
    depth = 0
    balanced = True
    for char in url:
        depth += (char == "(") - (char == ")")
        balanced = balanced and depth >= 0
    safe = _URL_SAFE + ("()" if balanced and depth == 0 else "")
    return quote(url, safe=safe)


def md_link(text: str, url: str | None, *, limit: int | None = None) -> str:
    """`[text](url)` with `text` escaped; only http(s) URLs become links, else just the text.

    An empty `text` shows the URL itself.
    """
    target = safe_url(url)
    if target is None:
        return escape_text(text or url or "", limit=limit)
    label = escape_text(text or target, limit=limit, link_label=True)
    return f"[{label}]({link_destination(target)})"


def md_url(url: str, *, limit: int | None = 100) -> str:
    """An http(s) URL shown as itself and linked; any other URL shown as escaped text."""
    return md_link(url, url, limit=limit)


def md_code(text: str) -> str:
    """`text` as an inline code span, for commands and file names we wrote ourselves.

    Backticks inside are fenced with a longer run (CommonMark §6.1).
    """
    cleaned = clean_text(text)
    longest = max((len(run) for run in re.findall(r"`+", cleaned)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if cleaned.startswith("`") or cleaned.endswith("`") else ""
    return f"{fence}{pad}{cleaned}{pad}{fence}"
