"""HTML work for blogs with beautifulsoup4 (pure): finding a site's feed, and reading a
listing page that has no feed into the same `RawItem`s a feed gives.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from linkfresh.collector.news.feed_parse import RawItem

FEED_TYPES = ("application/rss+xml", "application/atom+xml")
_HEADINGS = ["h1", "h2", "h3", "h4"]
_TEXT_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%b %d %Y",
                      "%B %d %Y", "%Y-%m-%d", "%b. %d, %Y")
_DATE_IN_TEXT = re.compile(
    r"\b(?:\d{4}-\d{2}-\d{2}|[A-Z][a-z]{2,8}\.? \d{1,2},? \d{4}|\d{1,2} [A-Z][a-z]{2,8} \d{4})\b"
)


def _soup(html: bytes) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def _base(soup: BeautifulSoup, page_url: str) -> str:
    base = soup.find("base", href=True)
    return urljoin(page_url, str(base["href"])) if isinstance(base, Tag) else page_url


def discover_feeds(html: bytes, page_url: str) -> list[str]:
    """Feed URLs a page advertises with `<link rel="alternate" type="application/rss+xml">`
    (or atom+xml), in document order; comment feeds last."""
    soup = _soup(html)
    base = _base(soup, page_url)
    found: list[tuple[bool, str]] = []
    for link in soup.find_all("link", href=True):
        rel = link.get("rel") or []
        rels = [rel] if isinstance(rel, str) else list(rel)
        kind = str(link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in (r.lower() for r in rels) or kind not in FEED_TYPES:
            continue
        comments = "comment" in str(link.get("title") or "").lower()
        found.append((comments, urljoin(base, str(link["href"]).strip())))
    ordered = [url for _, url in sorted(found, key=lambda pair: pair[0])]
    return list(dict.fromkeys(ordered))


def parse_text_date(text: str) -> datetime | None:
    """A date as written on a web page: ISO 8601, RFC 2822, or "Nov 20, 2024" and kin."""
    text = " ".join(text.split()).strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            moment = None
    if moment is None:
        found = _DATE_IN_TEXT.search(text)
        candidate = found.group(0) if found else text
        for pattern in _TEXT_DATE_FORMATS:
            try:
                moment = datetime.strptime(candidate, pattern)
                break
            except ValueError:
                continue
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _item_date(block: Tag) -> datetime | None:
    for stamp in block.find_all("time"):
        value = stamp.get("datetime") or stamp.get_text(" ")
        moment = parse_text_date(str(value))
        if moment is not None:
            return moment
    found = _DATE_IN_TEXT.search(block.get_text(" "))
    return parse_text_date(found.group(0)) if found else None


def _same_site(url: str, page_url: str) -> bool:
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    page_host = (urlsplit(page_url).hostname or "").removeprefix("www.")
    return host == page_host or host.endswith("." + page_host)


def _from_block(block: Tag, base: str, page_url: str) -> RawItem | None:
    heading = block.find(_HEADINGS)
    anchor = None
    if isinstance(heading, Tag):
        anchor = heading.find("a", href=True) or heading.find_parent("a", href=True)
    if anchor is None:
        anchor = block.find("a", href=True) if block.name != "a" else block
    if not isinstance(anchor, Tag):
        return None
    url = urljoin(base, str(anchor["href"]).strip())
    if not url.startswith(("http://", "https://")) or url.split("#")[0] == page_url.split("#")[0]:
        return None
    if not _same_site(url, page_url):
        return None
    title_source = heading if isinstance(heading, Tag) else anchor
    title = title_source.get_text(" ", strip=True)
    if not title:
        return None
    paragraph = block.find("p")
    summary = paragraph.get_text(" ", strip=True) if isinstance(paragraph, Tag) else ""
    return RawItem(url, title, _item_date(block), summary)


def read_listing(html: bytes, page_url: str) -> list[RawItem]:
    """Articles on a listing page: each `<article>` (else each heading with a link) gives a
    link on the same site, a title, a date from `<time>` or the text, and a first paragraph."""
    soup = _soup(html)
    base = _base(soup, page_url)
    blocks: list[Tag] = [tag for tag in soup.find_all("article") if isinstance(tag, Tag)]
    if not blocks:
        for heading in soup.find_all(_HEADINGS):
            if isinstance(heading, Tag) and (heading.find("a", href=True)
                                             or heading.find_parent("a", href=True)):
                parent = heading.parent
                single = isinstance(parent, Tag) and len(parent.find_all(_HEADINGS)) == 1
                blocks.append(parent if single and isinstance(parent, Tag) else heading)
    items: list[RawItem] = []
    for block in blocks:
        item = _from_block(block, base, page_url)
        if item is not None:
            items.append(item)
    return items
