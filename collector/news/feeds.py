"""Blog pulls: fetch a feed, a site's advertised feed, or a listing page -> `Post` values and
one `SourceOutcome` per source. Every source reads through the same `httpx.AsyncClient`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from linkfresh.collector.news.feed_pages import discover_feeds, read_listing
from linkfresh.collector.news.feed_parse import (
    ParsedFeed,
    looks_like_feed,
    looks_like_html,
    make_posts,
    parse_feed,
)
from linkfresh.collector.news.outcomes import (
    FailureKind,
    SourceKind,
    SourceOutcome,
    SourceStatus,
    failed,
)
from linkfresh.collector.news.relevance import profiles
from linkfresh.collector.types import FeedState, Post, Topic
from linkfresh.collector.web.client import BlockedURL, NameNotResolved, read_capped
from linkfresh.collector.web.retry import Failure, Retry, parse_retry_after, retry_plan
from linkfresh.config.settings import FeedSettings

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/xml;q=0.9, "
               "text/xml;q=0.9, text/html;q=0.5, */*;q=0.1")


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int
    url: str
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class FeedRetry:
    """How a source that failed for a transient reason is tried again within one collect:
    the link checker's rule (`linkfresh.collector.web.retry.retry_plan`) and its settings."""

    retries: int = 3
    backoff: float = 1.0
    retry_after_cap: float = 60.0
    dns_pause: float = 2.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    # Seconds one source may take in all, retries included: a server that drips its reply
    # a byte at a time never trips a read timeout, so this is what bounds it.
    deadline: float | None = None


class _Failure(Exception):
    def __init__(self, kind: FailureKind, reason: str, *, status: int | None = None,
                 transport: Failure | None = None, retry_after: str | None = None) -> None:
        super().__init__(reason)
        self.kind, self.reason = kind, reason
        # What the retry rule needs: the status or the transport failure, and Retry-After.
        self.status, self.transport, self.retry_after = status, transport, retry_after


async def fetch(
    client: httpx.AsyncClient, url: str, max_bytes: int, state: FeedState | None = None
) -> Fetched:
    """GET `url` (following redirects) with conditional headers; raises `_Failure`.

    A 304 comes back as a `Fetched` with status 304 and no body (RFC 9110 §13.1).
    """
    headers = {"Accept": FEED_ACCEPT}
    if state is not None and state.etag:
        headers["If-None-Match"] = state.etag
    if state is not None and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    try:
        async with client.stream("GET", url, headers=headers, follow_redirects=True) as response:
            if response.status_code == 304:
                return Fetched(304, str(response.url), b"", "", state.etag if state else None,
                               state.last_modified if state else None)
            if response.status_code != 200:
                raise _Failure(FailureKind.HTTP, f"HTTP {response.status_code}",
                               status=response.status_code,
                               retry_after=response.headers.get("retry-after"))
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _Failure(FailureKind.CONTENT, f"larger than {max_bytes} bytes ({declared})")
            body = await read_capped(response, max_bytes)
            if body.truncated:
                raise _Failure(FailureKind.CONTENT, f"larger than {max_bytes} bytes")
            if body.decode_error:
                raise _Failure(FailureKind.CONTENT, body.decode_error)
            return Fetched(200, str(response.url), body.data,
                           response.headers.get("content-type", ""),
                           response.headers.get("etag"), response.headers.get("last-modified"))
    except BlockedURL as error:
        raise _Failure(FailureKind.BLOCKED, str(error)) from None
    except NameNotResolved as error:
        raise _Failure(FailureKind.NETWORK, f"unknown host: {error}",
                       transport=Failure.NO_HOST) from None
    except httpx.TimeoutException:
        raise _Failure(FailureKind.NETWORK, "timed out", transport=Failure.TIMEOUT) from None
    except httpx.TooManyRedirects:
        raise _Failure(FailureKind.HTTP, "too many redirects") from None
    except httpx.ConnectError as error:
        raise _Failure(FailureKind.NETWORK, f"connection failed: {error or 'refused'}",
                       transport=Failure.REFUSED) from None
    except (httpx.TransportError, httpx.StreamError) as error:
        kind = error.__class__.__name__
        raise _Failure(FailureKind.NETWORK, f"{kind}: {error}"[:200],
                       transport=Failure.RESET) from None
    except httpx.InvalidURL as error:
        raise _Failure(FailureKind.CONTENT, f"invalid URL: {error}") from None


async def fetch_retrying(
    client: httpx.AsyncClient, url: str, max_bytes: int, state: FeedState | None = None,
    retry: FeedRetry | None = None,
) -> Fetched:
    """`fetch`, tried again on transient failures as `retry` says (once if it is None)."""
    attempt = 0
    while True:
        try:
            return await fetch(client, url, max_bytes, state)
        except _Failure as failure:
            if retry is None:
                raise
            wait = parse_retry_after(failure.retry_after, datetime.now(UTC))
            plan = retry_plan(failure.status, failure.transport, attempt,
                              retries=retry.retries, backoff=retry.backoff,
                              dns_pause=retry.dns_pause, retry_after=wait, rng=retry.rng)
            if plan.kind is Retry.NO:
                raise
            if plan.kind is Retry.AFTER and plan.delay > retry.retry_after_cap:
                failure.reason += (f"; Retry-After {plan.delay:.0f} s is past the cap of "
                                   f"{retry.retry_after_cap:.0f} s")
                raise
            await retry.sleep(plan.delay)
            attempt += 1


async def _read_source(
    client: httpx.AsyncClient, feed: FeedSettings, state: FeedState | None,
    retry: FeedRetry | None,
) -> tuple[Fetched, ParsedFeed]:
    """Fetch and parse one source by its kind; raises `_Failure`."""
    known = state.url if state is not None and state.url else feed.url
    first = await fetch_retrying(client, known, feed.max_bytes, state, retry)
    if first.status == 304:
        return first, ParsedFeed()
    body = first.body
    if feed.kind == "listing":
        return first, _listing(first)
    if looks_like_feed(body) or not looks_like_html(body, first.content_type):
        return first, parse_feed(body, first.url)
    if feed.kind == "feed":
        raise _Failure(FailureKind.CONTENT, "an HTML page, not an RSS or Atom feed")
    # A site: follow the feed it advertises (one hop), else read it as a listing page.
    for candidate in discover_feeds(body, first.url)[:1]:
        second = await fetch_retrying(client, candidate, feed.max_bytes, retry=retry)
        if looks_like_html(second.body, second.content_type):
            raise _Failure(FailureKind.CONTENT, f"advertised feed {candidate} is an HTML page")
        return second, parse_feed(second.body, second.url)
    return first, _listing(first, note="no feed advertised; read as a listing page")


def _listing(fetched: Fetched, note: str | None = None) -> ParsedFeed:
    items = tuple(read_listing(fetched.body, fetched.url))
    if not items:
        return ParsedFeed(error="no articles found on the listing page")
    return ParsedFeed(items, note=note)


async def collect_feed(
    client: httpx.AsyncClient,
    feed: FeedSettings,
    topics: Iterable[Topic],
    now: datetime,
    state: FeedState | None = None,
    retry: FeedRetry | None = None,
) -> tuple[list[Post], SourceOutcome]:
    """Posts of one source, deduplicated by URL and matched to topics, and its outcome.

    Transient failures (timeouts, resets, 5xx, 408, 429) are retried as `retry` says; with
    None, one attempt. A source read through a remembered feed URL that now fails is tried
    again from its configured URL, without validators (the site may have moved its feed).
    """
    try:
        try:
            fetched, parsed = await _read_source(client, feed, state, retry)
        except _Failure:
            if state is None or not state.url or state.url == feed.url:
                raise
            fetched, parsed = await _read_source(client, feed, None, retry)
    except _Failure as failure:
        return [], failed(feed.name, SourceKind.FEED, failure.kind, failure.reason, url=feed.url)
    if fetched.status == 304:
        return [], SourceOutcome(feed.name, SourceKind.FEED, SourceStatus.NOT_MODIFIED,
                                 url=fetched.url, etag=fetched.etag,
                                 last_modified=fetched.last_modified)
    if parsed.error:
        return [], failed(feed.name, SourceKind.FEED, FailureKind.CONTENT, parsed.error,
                          url=fetched.url)
    posts = make_posts(parsed.items, feed.name, profiles(topics), now)
    return posts, SourceOutcome(feed.name, SourceKind.FEED, SourceStatus.OK, items=len(posts),
                                url=fetched.url, etag=fetched.etag,
                                last_modified=fetched.last_modified, note=parsed.note)


# How often a source being read looks whether the run was asked to stop.
STOP_POLL = 0.1
T = TypeVar("T")


async def _within(work: Coroutine[Any, Any, T], deadline: float | None,
                  should_stop: Callable[[], bool] | None) -> T | TimeoutError | None:
    """`work`'s result; TimeoutError (returned) past `deadline` seconds; None once
    `should_stop()` turns true. Either way an unfinished `work` is cancelled."""
    task = asyncio.ensure_future(work)
    try:
        async with asyncio.timeout(deadline):
            while not task.done():
                if should_stop is not None and should_stop():
                    return None
                await asyncio.wait({task}, timeout=STOP_POLL)
        return task.result()
    except TimeoutError:
        if task.done() and not task.cancelled():
            raise  # a TimeoutError from inside `work` is its own business
        return TimeoutError()
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def collect_feeds(
    client: httpx.AsyncClient,
    feeds: Iterable[FeedSettings],
    topics: Iterable[Topic],
    now: datetime,
    states: Mapping[str, FeedState] | None = None,
    on_outcome: Callable[[SourceOutcome], None] | None = None,
    retry: FeedRetry | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[list[Post], list[SourceOutcome]]:
    """Every source in turn (sources are few; order stays deterministic).

    `states[name]` is what the last run learned about a source (feed URL, validators);
    `on_outcome` hears each source's outcome as it is known; once `should_stop()` is true,
    no further source is started (fewer outcomes than feeds says so).
    """
    topic_list = list(topics)
    posts: list[Post] = []
    outcomes: list[SourceOutcome] = []
    deadline = retry.deadline if retry is not None else None
    for feed in feeds:
        if should_stop is not None and should_stop():
            break
        pulled = await _within(
            collect_feed(client, feed, topic_list, now, (states or {}).get(feed.name), retry),
            deadline, should_stop)
        if pulled is None:  # asked to stop while this source was being read
            break
        found, outcome = pulled if not isinstance(pulled, TimeoutError) else ([], failed(
            feed.name, SourceKind.FEED, FailureKind.NETWORK,
            f"timed out: no complete answer within {deadline:g} s", url=feed.url))
        posts.extend(found)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return posts, outcomes
