"""Checking an arXiv API reply before the `arxiv` package parses it.

The package treats anything that parses as an empty result list as "nothing new", so an
error entry, an HTML page or a flaky empty page would pass for silence. This check runs as
a response hook on the client's requests session and raises `ArxivReplyError` instead.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree.ElementTree import Element, ParseError

import requests
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from linkfresh.collector.news.outcomes import FailureKind

_ATOM = "{http://www.w3.org/2005/Atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
# arXiv's error entries carry ids like http://arxiv.org/api/errors#incorrect_id_format_for_1
# (user manual, section 3.4 "Errors").
_ERROR_ID = "arxiv.org/api/errors"


class ArxivReplyError(Exception):
    """A reply that is not a usable page of results."""

    def __init__(self, reason: str, kind: FailureKind, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.transient = transient


def _error_entry(root: Element) -> str | None:
    """The message of arXiv's error entry, if the feed is one."""
    for entry in root.iter(f"{_ATOM}entry"):
        entry_id = (entry.findtext(f"{_ATOM}id") or "").strip()
        title = (entry.findtext(f"{_ATOM}title") or "").strip()
        if _ERROR_ID in entry_id or title == "Error":
            summary = " ".join((entry.findtext(f"{_ATOM}summary") or "").split())
            return summary or entry_id or "unspecified error"
    return None


def _int(root: Element, tag: str) -> int | None:
    try:
        return int((root.findtext(f"{_OPENSEARCH}{tag}") or "").strip())
    except ValueError:
        return None


def _start(url: str) -> int:
    try:
        return int(parse_qs(urlsplit(url).query).get("start", ["0"])[0])
    except ValueError:
        return 0


def inspect_reply(status: int, content_type: str, body: bytes, url: str) -> None:
    """Raise `ArxivReplyError` unless the reply is a page of results (or a plain HTTP error,
    which the arxiv package reports itself)."""
    try:
        root = fromstring(body) if body.strip() else None
    except DefusedXmlException:
        reason = "reply declares XML entities (refused)"
        raise ArxivReplyError(reason, FailureKind.CONTENT) from None
    except ParseError as error:
        if status != 200:
            return  # an HTML error page: the package raises HTTPError with the status
        head = body.lstrip()[:64].lower()
        html = head.startswith((b"<!doctype html", b"<html")) or "html" in content_type.lower()
        what = "HTML" if html else "malformed XML"
        raise ArxivReplyError(f"not an Atom feed ({what}: {error})", FailureKind.CONTENT) from None
    if root is None:
        if status == 200:
            raise ArxivReplyError("empty reply", FailureKind.CONTENT, transient=True)
        return
    message = _error_entry(root) if root.tag == f"{_ATOM}feed" else None
    if message is not None:
        raise ArxivReplyError(f"arXiv API error: {message}", FailureKind.API)
    if status != 200:
        return
    if root.tag != f"{_ATOM}feed":
        raise ArxivReplyError(f"not an Atom feed (root <{root.tag}>)", FailureKind.CONTENT)
    total = _int(root, "totalResults")
    if total is None:
        raise ArxivReplyError("no opensearch:totalResults in reply", FailureKind.CONTENT)
    if root.find(f"{_ATOM}entry") is None and _start(url) < total:
        # arXiv sometimes answers a page with no entries although the totals say there are
        # more; its manual and the arxiv package both treat this as worth a retry.
        raise ArxivReplyError(f"empty page at {_start(url)} of {total}", FailureKind.CONTENT,
                              transient=True)


def check_reply(response: requests.Response, *_: Any, **__: Any) -> requests.Response:
    """The requests response hook: reads the body and runs `inspect_reply` on it."""
    inspect_reply(response.status_code, response.headers.get("Content-Type", ""),
                  response.content, response.url)
    return response
