"""HTML inspection (pure, streaming stdlib `html.parser`, no tree): title, main heading,
anchors, the signs of soft 404s and bot walls, and the page features that parking and drift
checks read (visible text, embedded resources, script redirects, password fields).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import unescape
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


# Page features: what is read of the whole (capped) page, by linear-time scans rather than
# the parser (a full `html.parser` pass over a 160 KB page took 20 ms, these scans 3 ms).
TEXT_HEAD_CHARS = 3000  # visible text kept for phrase matching
MAX_RESOURCES = 64  # embedded resource URLs kept
SCRIPT_CHARS = 64 * 1024  # inline script text searched for a redirect
_RAW_OPEN = re.compile(r"<(script|style|template)\b[^<>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")
# Tags whose attributes matter: embedded resources, meta refresh, password inputs.
_INTERESTING_TAG = re.compile(r"<(script|iframe|frame|link|embed|meta|input)\b([^<>]{0,2000})",
                              re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""")
_REFRESH_URL = re.compile(r"url\s*=\s*['\"]?([^'\"\s;]+)", re.IGNORECASE)
_JS_LOCATION = re.compile(
    r"""location(?:\.href)?\s*=\s*["']([^"'\s]{1,300})["']"""
    r"""|location\.(?:replace|assign)\(\s*["']([^"'\s]{1,300})["']"""
)


@dataclass(frozen=True, slots=True)
class Features:
    """What the whole page shows beyond its title: for parking and content-drift checks.

    `text_length` counts visible characters (whitespace collapsed, scripts and styles left
    out); `redirect` is where a meta refresh or an inline script sends the visitor.
    """

    text_length: int
    text_head: str = ""
    resources: tuple[str, ...] = ()
    redirect: str | None = None
    password_field: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    """What a check needs from an HTML page."""

    title: str | None
    heading: str | None
    anchors: frozenset[str] | None  # None: not collected (no fragment was asked for)
    features: Features | None = None  # None: not collected (an error page, say)


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


def inspect_html(
    body: bytes, charset: str | None = None, *, anchors: bool = True, features: bool = False
) -> Page:
    """Title, first h1 and (unless `anchors` is False) every id/name; GitHub's
    `user-content-x` also yields `x`. Without anchors the scan stops after the first h1
    once the title is known, and `Page.anchors` is None (not looked at). With `features`,
    `Page.features` describes the whole page (see `page_features`)."""
    text = decode_html(body, charset)
    found_features = page_features(text) if features else None
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
        return Page(title, heading, None, found_features)
    found = parser.anchors
    prefix = GITHUB_ANCHOR_PREFIX
    found |= {a.removeprefix(prefix) for a in found if a.startswith(prefix)}
    return Page(title, heading, frozenset(found), found_features)


def page_features(text: str) -> Features:
    """Visible text, embedded resources (script, iframe, frame, link, embed URLs), the
    target of a meta refresh or `location = "..."` script, and whether a password field is
    there. Every scan is linear in the page's length, whatever the markup."""
    lower = text.lower()
    pieces: list[str] = []
    scripts: list[str] = []
    budget, position = SCRIPT_CHARS, 0
    while True:
        opened = _RAW_OPEN.search(text, position)
        if opened is None:
            pieces.append(text[position:])
            break
        pieces.append(text[position:opened.start()])
        name = opened.group(1).lower()
        close = lower.find("</" + name, opened.end())
        end = len(text) if close < 0 else close
        if name == "script" and budget > 0:
            scripts.append(text[opened.end():min(end, opened.end() + budget)])
            budget -= end - opened.end()
        if close < 0:
            break
        after = text.find(">", close)
        position = len(text) if after < 0 else after + 1
    visible = " ".join(unescape(_TAG.sub(" ", "".join(pieces))).split())
    resources: list[str] = []
    redirect: str | None = None
    password = False
    for tag in _INTERESTING_TAG.finditer(text):
        name = tag.group(1).lower()
        attributes = {key.lower(): "".join(values)  # only one of the three alternatives matched
                      for key, *values in _ATTRIBUTE.findall(tag.group(2))}
        if name == "input":
            password = password or attributes.get("type", "").lower() == "password"
        elif name == "meta":
            if attributes.get("http-equiv", "").lower() == "refresh" and redirect is None:
                target = _REFRESH_URL.search(attributes.get("content", ""))
                redirect = target.group(1) if target else None
        elif len(resources) < MAX_RESOURCES:
            url = attributes.get("src") or attributes.get("href")
            if url:
                resources.append(unescape(url.strip()))
    if redirect is None:
        for script in scripts:
            found = _JS_LOCATION.search(script)
            if found:
                redirect = found.group(1) or found.group(2)
                break
    return Features(len(visible), visible[:TEXT_HEAD_CHARS], tuple(resources), redirect, password)


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
