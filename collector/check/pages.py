"""HTML inspection (pure, streaming stdlib `html.parser`, no tree): title, main heading,
anchors, and the signs of soft 404s and bot walls.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

# GitHub prefixes ids of rendered-markdown headings; its script scrolls to them by bare name.
GITHUB_ANCHOR_PREFIX = "user-content-"

_SOFT_404 = re.compile(
    r"(^\s*404\b|\b404\s*[-:|–]|\berror\s*404\b|\b404\s+(?:error|not\s+found)\b"
    r"|\bpage\s+not\s+found\b|^\s*not\s+found\s*$|\bpage\s+(?:does\s+not|doesn['’]t)\s+exist\b"
    r"|\bpage\s+(?:could\s+not|cannot|can['’]t)\s+be\s+found\b|\bno\s+longer\s+available\b)",
    re.IGNORECASE,
)
_BOT_WALL_TITLES = re.compile(
    r"(just a moment|attention required|checking your browser|ddos-guard|access denied"
    r"|are you a robot|verify you are human|captcha|request unsuccessful)",
    re.IGNORECASE,
)
# Fragments that are not element ids: text fragments, SPA routes, PDF/code-view viewers.
_NOT_AN_ID = re.compile(r"^(:~:|/|!|page=|L\d+(-L\d+)?$|nameddest=|t=\d)")
# Elements whose `name` is a fragment target (HTML 4 `<a name>` and its kin).
_NAMED_ELEMENTS = frozenset({"a", "map", "iframe", "img", "form"})
# Text inside these is not text a reader sees (as BeautifulSoup's get_text leaves it out).
_RAW_TEXT = frozenset({"script", "style", "template"})
# The encoding prescan of the HTML standard (§13.2.3.2) looks at the first 1024 bytes.
_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
# Pages are parsed in slices, so a scan that has what it needs stops early.
_FEED_CHARS = 16 * 1024


@dataclass(frozen=True, slots=True)
class Page:
    """What a check needs from an HTML page."""

    title: str | None
    heading: str | None
    anchors: frozenset[str] | None  # None: not collected (no fragment was asked for)


def is_html(content_type: str | None) -> bool:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml")


def decode_html(body: bytes, charset: str | None = None) -> str:
    """The page's text: BOM, then the HTTP charset, then a `<meta>` charset, then UTF-8,
    then windows-1252 (which, like browsers, is the fallback for undeclared legacy pages)."""
    candidates: list[str] = []
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            candidates.append(encoding)
    if charset:
        candidates.append(charset)
    meta = _META_CHARSET.search(body, 0, 1024)
    if meta:
        candidates.append(meta.group(1).decode("ascii"))
    candidates += ["utf-8", "windows-1252"]
    for encoding in candidates:
        try:
            return body.decode(encoding)
        except LookupError:
            continue
        except UnicodeDecodeError as error:
            if error.reason == "unexpected end of data":  # a capped body cut a character
                return body.decode(encoding, "replace")
    return body.decode("utf-8", "replace")


class _Found(Exception):
    """Raised inside the parser once it has what was asked for."""


class _Inspector(HTMLParser):
    """Collects the first <title>, the first <h1> (their text as `get_text(" ", strip=True)`
    gives it) and, if asked, every id and name; builds no tree."""

    def __init__(self, anchors: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.want_anchors = anchors
        self.anchors: set[str] = set()
        self.title: list[str] | None = None
        self.heading: list[str] | None = None
        self._open: str | None = None  # "title" or "h1" while collecting its text
        self._raw: str | None = None  # inside script/style: not text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.want_anchors:
            # Every value of a duplicated attribute counts: a missing anchor must be certain.
            for name, value in attrs:
                if value is not None and (
                    name == "id" or (name == "name" and tag in _NAMED_ELEMENTS)
                ):
                    self.anchors.add(value)
        if tag in _RAW_TEXT:
            self._raw = tag
        elif self._open is None:
            if tag == "title" and self.title is None:
                self._open, self.title = tag, []
            elif tag == "h1" and self.heading is None:
                self._open, self.heading = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag == self._raw:
            self._raw = None
        elif tag == self._open:
            self._open = None
            if not self.want_anchors and self.title is not None and self.heading is not None:
                raise _Found

    def handle_data(self, data: str) -> None:
        if self._open is not None and self._raw is None:
            text = data.strip()
            parts = self.title if self._open == "title" else self.heading
            if text and parts is not None:
                parts.append(text)


def inspect_html(body: bytes, charset: str | None = None, *, anchors: bool = True) -> Page:
    """Title, first h1 and (unless `anchors` is False) every id/name; GitHub's
    `user-content-x` also yields `x`. Without anchors the scan stops after the first h1
    once the title is known, and `Page.anchors` is None (not looked at)."""
    text = decode_html(body, charset)
    parser = _Inspector(anchors)
    try:
        for start in range(0, len(text), _FEED_CHARS):
            parser.feed(text[start:start + _FEED_CHARS])
        parser.close()
    except _Found:
        pass
    title = " ".join(parser.title) if parser.title else None
    heading = " ".join(parser.heading) if parser.heading else None
    if not anchors:
        return Page(title, heading, None)
    found = parser.anchors
    prefix = GITHUB_ANCHOR_PREFIX
    found |= {a.removeprefix(prefix) for a in found if a.startswith(prefix)}
    return Page(title, heading, frozenset(found))


def fragment_present(fragment: str, page: Page) -> bool | None:
    """True/False when the fragment is (not) an anchor of the page; None when it is not an
    element id at all (text fragments, `#/route`, `#L10`, `#page=3`), so it is not checked."""
    if not fragment or page.anchors is None or _NOT_AN_ID.match(fragment):
        return None
    candidates = {fragment, unquote(fragment)}
    if candidates & page.anchors:
        return True
    # Browsers match ids exactly, but GitHub's scroll script lower-cases heading names.
    return bool({c.lower() for c in candidates} & {a.lower() for a in page.anchors})


def soft_404_sign(page: Page) -> str | None:
    """Evidence that a 200 page is really "not found": its title or main heading says so."""
    for label, text in (("title", page.title), ("heading", page.heading)):
        if text and _SOFT_404.search(text):
            return f"soft 404: {label} says {text[:80]!r}"
    return None


def bot_wall_sign(headers: Mapping[str, str], page: Page | None) -> str | None:
    """Evidence of a bot wall (challenge page) rather than an answer about the URL."""
    if headers.get("cf-mitigated", "").lower() == "challenge":
        return "bot wall: cf-mitigated: challenge"
    if page and page.title and _BOT_WALL_TITLES.search(page.title):
        return f"bot wall: title {page.title[:80]!r}"
    return None


def redirected_to_root(requested: str, final: str) -> bool:
    """A deep link that landed on the site's front page: the usual shape of a soft 404."""
    before, after = urlsplit(requested), urlsplit(final)
    deep = before.path.rstrip("/") not in ("", "/index.html", "/index.htm", "/index.php")
    return deep and after.path in ("", "/") and not after.query
