"""RSS/Atom bytes -> items, and items -> deduplicated `Post` values (pure).

Bytes are checked with defusedxml before feedparser sees them, and feedparser is only ever
given bytes: a `str` could be taken for a URL or a file path and fetched or read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from xml.etree.ElementTree import ParseError

import feedparser
from bs4 import BeautifulSoup
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from linkfresh.collector.guide.unwrap import normalise, unwrap
from linkfresh.collector.news.feed_dates import feed_date
from linkfresh.collector.news.relevance import Profile, topic_names
from linkfresh.collector.types import Post

# Dates before this are not real blog dates (feeds send 1970-01-01 for "unknown").
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)
# A post dated further ahead than this is mis-dated (bad time zone, a scheduled post).
FUTURE_SLACK = timedelta(days=1)
SUMMARY_CHARS = 600
# Query parameters that only track the click, never select the content.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "igshid", "mc_cid",
    "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "wickedid",
    "ref_src", "ref_url", "__s", "_ga", "_gl", "spm", "sr_share",
})
_FEED_ROOT = re.compile(rb"<(?:[a-z0-9]+:)?(?:rss|feed|rdf)\b", re.IGNORECASE)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b",
                         re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class RawItem:
    """An entry as read from a feed or a listing page, before cleaning."""

    url: str
    title: str
    published: datetime | None
    summary: str = ""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """Items of a feed, or why it could not be read; `note` flags a recovered feed."""

    items: tuple[RawItem, ...] = ()
    error: str | None = None
    note: str | None = None


def looks_like_feed(data: bytes) -> bool:
    """An RSS, Atom or RDF root element near the start of the document."""
    return bool(_FEED_ROOT.search(data[:4096]))


def looks_like_html(data: bytes, content_type: str = "") -> bool:
    if looks_like_feed(data):
        return False
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml") or bool(_HTML_START.match(data[:2048]))


def entity_check(data: bytes) -> tuple[str | None, bool]:
    """(why the document is refused, whether it is well-formed XML).

    Entity declarations are refused outright: they are how billion-laughs expansion and
    external entities (XXE, reading local files or internal URLs) work, and no real feed
    needs them. A document defusedxml cannot parse is also searched for a declaration,
    since feedparser's lenient parser would still look at it.
    """
    try:
        fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        return f"XML entity declarations refused ({error.__class__.__name__})", False
    except ParseError:
        if re.search(rb"<!\s*ENTITY", data, re.IGNORECASE):
            return "XML entity declarations refused", False
        return None, False
    return None, True


def parse_feed(data: bytes, url: str) -> ParsedFeed:
    """Parse RSS or Atom bytes; relative links resolve against `url`."""
    refused, well_formed = entity_check(data)
    if refused:
        return ParsedFeed(error=refused)
    parsed = feedparser.parse(bytes(data), response_headers={"content-location": url},
                              resolve_relative_uris=True, sanitize_html=True)
    items = []
    for entry in parsed.entries:
        link = entry.get("link") or ""
        if not link:
            continue
        # Plain dict lookups: feedparser's own mapping of "updated" onto "published" warns.
        field = "published" if dict.get(entry, "published") else "updated"
        published = feed_date(dict.get(entry, field), dict.get(entry, f"{field}_parsed"))
        summary = entry.get("summary") or ""
        items.append(RawItem(link, entry.get("title") or "", published, summary))
    if not items and (not well_formed or not parsed.get("version")):
        # Nothing usable: say why rather than pass the source off as "nothing new".
        reason = str(parsed.get("bozo_exception") or "not an RSS or Atom document")
        what = "malformed XML" if not well_formed else "not an RSS or Atom feed"
        return ParsedFeed(error=f"{what}: {reason}"[:300])
    note = "malformed XML, recovered" if not well_formed else None
    return ParsedFeed(tuple(items), note=note)


def plausible_date(moment: datetime | None, now: datetime) -> datetime | None:
    """`moment` in UTC, or None when it is before 1990 or more than a day ahead of `now`.

    An absurd date is dropped rather than clamped: the post is kept and storage dates it by
    when it was first seen, which is the truth we have.
    """
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if moment < EARLIEST_DATE or moment > now + FUTURE_SLACK:
        return None
    return moment


def post_identity(url: str) -> str | None:
    """The URL a post is known by: unwrapped, normalised, no tracking parameters or fragment.

    None for anything that is not an absolute http(s) URL.
    """
    target = normalise(unwrap(url.strip()).url)
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(key, value) for key, value in pairs
            if not key.lower().startswith("utm_") and key.lower() not in TRACKING_PARAMS]
    query = parts.query if len(kept) == len(pairs) else urlencode(kept)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def plain_text(html: str, limit: int = SUMMARY_CHARS) -> str:
    """Text of an HTML fragment, whitespace collapsed, cut at a word near `limit`."""
    if "<" in html or "&" in html:
        html = BeautifulSoup(html, "html.parser").get_text(" ")
    text = " ".join(html.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def make_posts(
    items: Iterable[RawItem],
    source: str,
    topics: tuple[Profile, ...],
    now: datetime,
) -> list[Post]:
    """Clean items into posts: one per identity URL (first wins), with the topics each is
    relevant to, best first (`linkfresh.collector.news.relevance`)."""
    posts: dict[str, Post] = {}
    for item in items:
        url = post_identity(item.url)
        if url is None or url in posts:
            continue
        title = plain_text(item.title, 300) or url
        summary = plain_text(item.summary)
        posts[url] = Post(url=url, title=title, source=source,
                          published=plausible_date(item.published, now), summary=summary,
                          topics=topic_names(title, summary, topics))
    return list(posts.values())
