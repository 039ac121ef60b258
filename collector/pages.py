"""HTML inspection with beautifulsoup4 (pure): title, main heading, anchors, and the signs
of soft 404s and bot walls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from bs4 import BeautifulSoup

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


@dataclass(frozen=True, slots=True)
class Page:
    """What a check needs from an HTML page."""

    title: str | None
    heading: str | None
    anchors: frozenset[str]


def is_html(content_type: str | None) -> bool:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml")


def inspect_html(body: bytes, charset: str | None = None) -> Page:
    """Title, first h1 and every id/name; GitHub's `user-content-x` also yields `x`."""
    soup = BeautifulSoup(body, "html.parser", from_encoding=charset)
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    h1 = soup.find("h1")
    heading = h1.get_text(" ", strip=True) if h1 else None
    anchors: set[str] = set()
    for element in soup.find_all(attrs={"id": True}):
        anchors.add(str(element["id"]))
    for element in soup.find_all(["a", "map", "iframe", "img", "form"], attrs={"name": True}):
        anchors.add(str(element["name"]))
    prefix = GITHUB_ANCHOR_PREFIX
    anchors |= {a.removeprefix(prefix) for a in anchors if a.startswith(prefix)}
    return Page(title or None, heading or None, frozenset(anchors))


def fragment_present(fragment: str, page: Page) -> bool | None:
    """True/False when the fragment is (not) an anchor of the page; None when it is not an
    element id at all (text fragments, `#/route`, `#L10`, `#page=3`), so it is not checked."""
    if not fragment or _NOT_AN_ID.match(fragment):
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
