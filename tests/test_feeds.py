"""Blog sources against local servers: RSS, Atom, site discovery, listing pages, bad sources."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from linkfresh.collector.news.feed_parse import plausible_date, post_identity
from linkfresh.collector.news.feeds import FeedRetry, FeedState, collect_feed, collect_feeds
from linkfresh.collector.news.outcomes import FailureKind, SourceOutcome, SourceStatus
from linkfresh.collector.types import Post, Topic
from linkfresh.collector.web.client import build_client
from linkfresh.config.settings import CheckSettings, FeedSettings
from tests.feed_samples import (
    ATOM_TYPE,
    BILLION_LAUGHS,
    HTML_TYPE,
    LISTING_PAGE,
    RSS_TYPE,
    atom,
    rss,
    site_page,
    xxe,
)
from tests.servers import (
    LocalServer,
    Reply,
    Request,
    closed_port,
    endless,
    html_page,
    in_turn,
)

NOW = datetime(2024, 11, 21, 12, 0, tzinfo=UTC)
TOPICS = [
    Topic("Efficient inference", keywords=("quantization", "speculative decoding")),
    Topic("RLHF and alignment", keywords=("rlhf", "alignment", "dpo")),
    Topic("Transformer architecture", keywords=("transformer", "attention")),
]
ServerFactory = Callable[[], LocalServer]
Result = tuple[list[Post], SourceOutcome]


def run(coroutine_of: Callable[[httpx.AsyncClient], Coroutine[Any, Any, Any]], *,
        allow_private: bool = True, timeout: float = 1.0) -> Any:
    """Run `coroutine_of(client)` with a real guarded client, as the application builds it."""
    settings = CheckSettings(allow_private=allow_private, connect_timeout=timeout,
                             read_timeout=timeout)

    async def main() -> Any:
        async with build_client(settings, default_user_agent="linkfresh-test/1.0") as client:
            return await coroutine_of(client)

    return asyncio.run(main())


def pull(feed: FeedSettings, state: FeedState | None = None, **options: Any) -> Result:
    return run(lambda client: collect_feed(client, feed, TOPICS, NOW, state), **options)


def feed_at(url: str, kind: str = "auto", max_bytes: int = 64 * 1024) -> FeedSettings:
    return FeedSettings(name="Blog", url=url, kind=kind, max_bytes=max_bytes)  # type: ignore[arg-type]


SPECULATIVE = "https://blog.example.org/speculative/"
RSS_ITEMS = [
    (f"{SPECULATIVE}?utm_source=rss&utm_medium=rss", "Speculative decoding, explained",
     datetime(2024, 11, 20, 9, 0, tzinfo=UTC),
     "<p>How a draft model and <b>quantization</b> speed up transformer attention.</p>"),
    (f"{SPECULATIVE}?fbclid=abc", "Speculative decoding, explained (dup)",
     datetime(2024, 11, 20, 9, 0, tzinfo=UTC), "duplicate by URL once tracking is dropped"),
    ("https://blog.example.org/dpo", "What DPO changed for alignment",
     "Tue, 19 Nov 2024 18:30:00 -0500", "Preference optimization without a reward model."),
    ("https://blog.example.org/bread", "Sourdough notes", "Mon, 18 Nov 2024 08:00:00 GMT",
     "Flour and water."),
]


def test_rss_first_run_dedupes_normalises_and_matches_topics(new_server: ServerFactory) -> None:
    server = new_server()
    url = server.route("/rss/", Reply(200, {"Content-Type": RSS_TYPE, "ETag": '"v1"',
                                            "Last-Modified": "Wed, 20 Nov 2024 09:00:00 GMT"},
                                      rss(RSS_ITEMS)))
    posts, outcome = pull(feed_at(url, "feed"))

    assert outcome.status is SourceStatus.OK and outcome.items == 3
    assert (outcome.etag, outcome.last_modified) == ('"v1"', "Wed, 20 Nov 2024 09:00:00 GMT")
    first, second, third = posts
    assert first.url == "https://blog.example.org/speculative/"
    assert first.summary == "How a draft model and quantization speed up transformer attention."
    # the summary's "transformer attention" alone is not enough for that topic
    assert first.topics == ("Efficient inference",)
    assert second.published == datetime(2024, 11, 19, 23, 30, tzinfo=UTC)
    assert second.topics == ("RLHF and alignment",)
    assert third.topics == () and third.source == "Blog"  # stored, but no topic news


def test_second_run_is_conditional_and_not_modified(new_server: ServerFactory) -> None:
    server = new_server()

    def handle(request: Request) -> Reply:
        if request.headers.get("If-None-Match") == '"v1"':
            return Reply(304, {"ETag": '"v1"'})
        return Reply(200, {"Content-Type": RSS_TYPE, "ETag": '"v1"'}, rss(RSS_ITEMS))

    url = server.route("/rss/", handle)
    _, first = pull(feed_at(url, "feed"))
    state = FeedState(first.url, first.etag, first.last_modified)
    posts, second = pull(feed_at(url, "feed"), state)
    assert second.status is SourceStatus.NOT_MODIFIED and posts == []
    assert second.etag == '"v1"' and server.count("/rss/") == 2


def test_site_discovers_its_atom_feed_and_remembers_it(new_server: ServerFactory) -> None:
    server = new_server()
    feed_url = server.route("/feed.xml", Reply(200, {"Content-Type": ATOM_TYPE}, atom([
        ("/2024/11/attention/", "Attention, visualised", "2024-11-20T10:00:00+01:00",
         "<p>Self-attention heads in a transformer.</p>"),
        ("https://author.example.io/2024/10/rlhf/", "RLHF from scratch", "2024-10-01T00:00:00Z",
         "Reward models and alignment."),
    ])))
    site = server.route("/", Reply(200, {"Content-Type": HTML_TYPE}, site_page("/feed.xml")))
    posts, outcome = pull(feed_at(site, "site"))

    assert outcome.status is SourceStatus.OK and outcome.url == feed_url
    assert [post.url for post in posts] == [server.url("/2024/11/attention/"),
                                            "https://author.example.io/2024/10/rlhf/"]
    assert posts[0].published == datetime(2024, 11, 20, 9, 0, tzinfo=UTC)
    # Next run reads the remembered feed directly.
    pull(feed_at(site, "site"), FeedState(outcome.url))
    assert server.count("/") == 1 and server.count("/feed.xml") == 2


def test_listing_page_reads_like_a_feed(new_server: ServerFactory) -> None:
    server = new_server()
    url = server.route("/the-batch/", Reply(200, {"Content-Type": HTML_TYPE}, LISTING_PAGE))
    posts, outcome = pull(feed_at(url, "listing"))

    assert outcome.status is SourceStatus.OK
    assert [post.url for post in posts] == [server.url("/the-batch/issue-276/"),
                                            server.url("/the-batch/issue-274/")]
    assert posts[0].title == "Speculative decoding goes mainstream"
    assert posts[0].published == datetime(2024, 11, 20, 16, 0, tzinfo=UTC)
    assert posts[0].topics == ("Efficient inference",)
    assert posts[1].published is None


def test_listing_keeps_other_hosts_of_the_same_site() -> None:
    from linkfresh.collector.news.feed_pages import read_listing

    items = read_listing(LISTING_PAGE.encode(), "https://www.example-batch.org/the-batch/")
    assert [item.url for item in items][:2] == [
        "https://www.example-batch.org/the-batch/issue-276/?utm_source=site&utm_medium=listing",
        "https://www.example-batch.org/the-batch/issue-275/",
    ]
    assert items[1].published == datetime(2024, 11, 13, tzinfo=UTC)


def test_site_without_feed_falls_back_to_listing_or_fails(new_server: ServerFactory) -> None:
    server = new_server()
    url = server.route("/blog/", Reply(200, {"Content-Type": HTML_TYPE}, LISTING_PAGE))
    posts, outcome = pull(feed_at(url, "site"))
    assert outcome.ok and len(posts) == 2 and "listing" in (outcome.note or "")

    empty = server.route("/empty/", html_page("Nothing here", "<p>hello</p>"))
    _, outcome = pull(feed_at(empty, "auto"))
    assert outcome.failure is FailureKind.CONTENT and "no articles" in (outcome.reason or "")


def _expect(outcome: SourceOutcome, kind: FailureKind, words: str) -> None:
    assert outcome.status is SourceStatus.FAILED, outcome
    assert outcome.failure is kind and words in (outcome.reason or ""), outcome


def test_feed_down_refused_and_500() -> None:
    _, outcome = pull(feed_at(f"http://127.0.0.1:{closed_port()}/rss"))
    _expect(outcome, FailureKind.NETWORK, "connection failed")


def test_feed_http_error(new_server: ServerFactory) -> None:
    server = new_server()
    url = server.route("/rss", Reply(500, {"Content-Type": HTML_TYPE}, "<h1>oops</h1>"))
    _expect(pull(feed_at(url, "feed"))[1], FailureKind.HTTP, "HTTP 500")


def test_html_instead_of_xml(new_server: ServerFactory) -> None:
    server = new_server()
    url = server.route("/rss", html_page("Just a moment...", "<p>checking your browser</p>"))
    _expect(pull(feed_at(url, "feed"))[1], FailureKind.CONTENT, "HTML page")


@pytest.mark.parametrize("body", [
    b"<?xml version='1.0'?><rss version='2.0'><channel><title>x</title><item><title>",
    b"\x00\x01garbage that is not XML at all",
])
def test_malformed_xml(new_server: ServerFactory, body: bytes) -> None:
    server = new_server()
    url = server.route("/rss", Reply(200, {"Content-Type": RSS_TYPE}, body))
    _expect(pull(feed_at(url, "feed"))[1], FailureKind.CONTENT, "XML")


def test_undefined_html_entity_is_recovered(new_server: ServerFactory) -> None:
    body = rss([("https://blog.example.org/a", "Caf&eacute; &nbsp; notes", NOW, "x")])
    body = body.replace("Caf&amp;eacute; &amp;nbsp; notes", "Caf&eacute; &nbsp; notes")
    server = new_server()
    url = server.route("/rss", Reply(200, {"Content-Type": RSS_TYPE}, body))
    posts, outcome = pull(feed_at(url, "feed"))
    assert outcome.ok and posts[0].title == "Café notes"


def test_huge_feed_is_cut_at_the_cap(new_server: ServerFactory) -> None:
    server = new_server()
    head = b'<?xml version="1.0"?><rss version="2.0"><channel>'
    comments = endless(b"<!-- x -->" * 4096)
    url = server.route("/endless", Reply(200, {"Content-Type": RSS_TYPE},
                                         chunks=lambda: itertools.chain([head], comments())))
    declared = server.route("/declared", Reply(200, {"Content-Type": RSS_TYPE},
                                               rss(RSS_ITEMS) + " " * 70_000))
    started = time.monotonic()
    _expect(pull(feed_at(url, "feed"))[1], FailureKind.CONTENT, "larger than 65536")
    _expect(pull(feed_at(declared, "feed"))[1], FailureKind.CONTENT, "larger than 65536")
    assert time.monotonic() - started < 5


def test_billion_laughs_is_refused_quickly(new_server: ServerFactory) -> None:
    server = new_server()
    url = server.route("/rss", Reply(200, {"Content-Type": RSS_TYPE}, BILLION_LAUGHS))
    started = time.monotonic()
    posts, outcome = pull(feed_at(url, "feed"))
    assert time.monotonic() - started < 2 and posts == []
    _expect(outcome, FailureKind.CONTENT, "entity")


def test_external_entities_read_nothing(new_server: ServerFactory, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN")
    server = new_server()
    probe = server.route("/probe", Reply(200, {}, "PROBED"))
    for index, target in enumerate([secret.as_uri(), probe]):
        url = server.route(f"/xxe{index}", Reply(200, {"Content-Type": RSS_TYPE}, xxe(target)))
        posts, outcome = pull(feed_at(url, "feed"))
        _expect(outcome, FailureKind.CONTENT, "entity")
        assert "TOP-SECRET" not in repr(posts) + repr(outcome)
    assert server.count("/probe") == 0


def test_missing_and_absurd_dates_become_none(new_server: ServerFactory) -> None:
    server = new_server()
    body = rss([
        ("https://blog.example.org/none", "No date", None, "x"),
        ("https://blog.example.org/epoch", "Epoch", "Thu, 01 Jan 1970 00:00:00 GMT", "x"),
        ("https://blog.example.org/future", "Future", "Fri, 01 Jan 2999 00:00:00 GMT", "x"),
        ("https://blog.example.org/junk", "Junk", "sometime last week", "x"),
        ("https://blog.example.org/fine", "Fine", "Wed, 20 Nov 2024 09:00:00 +0100", "x"),
    ])
    url = server.route("/rss", Reply(200, {"Content-Type": RSS_TYPE}, body))
    posts, outcome = pull(feed_at(url, "feed"))
    assert outcome.ok and len(posts) == 5
    assert [post.published for post in posts] == [None, None, None, None,
                                                  datetime(2024, 11, 20, 8, 0, tzinfo=UTC)]


def test_stalled_feed_times_out(new_server: ServerFactory) -> None:
    server = new_server()
    url = server.route("/slow", Reply(200, {"Content-Type": RSS_TYPE}, rss(RSS_ITEMS), delay=3))
    started = time.monotonic()
    _expect(pull(feed_at(url, "feed"), timeout=0.2)[1], FailureKind.NETWORK, "timed out")
    assert time.monotonic() - started < 2


def test_private_address_is_blocked_unless_allowed(new_server: ServerFactory) -> None:
    server = new_server()
    url = server.route("/rss", Reply(200, {"Content-Type": RSS_TYPE}, rss(RSS_ITEMS)))
    _expect(pull(feed_at(url, "feed"), allow_private=False)[1], FailureKind.BLOCKED, "non-public")
    assert server.count("/rss") == 0


def test_one_bad_source_does_not_stop_the_others(new_server: ServerFactory) -> None:
    server = new_server()
    good = server.route("/rss", Reply(200, {"Content-Type": RSS_TYPE}, rss(RSS_ITEMS)))
    feeds = [FeedSettings(name="Down", url=f"http://127.0.0.1:{closed_port()}/"),
             FeedSettings(name="Good", url=good)]
    posts, outcomes = run(lambda client: collect_feeds(client, feeds, TOPICS, NOW))
    assert [o.status for o in outcomes] == [SourceStatus.FAILED, SourceStatus.OK]
    assert {post.source for post in posts} == {"Good"}


@pytest.mark.parametrize(("url", "identity"), [
    ("https://Blog.Example.org/a?utm_source=x&utm_campaign=y", "https://blog.example.org/a"),
    ("https://blog.example.org/a?id=3&fbclid=z&gclid=q#comments", "https://blog.example.org/a?id=3"),
    ("https://www.google.com/url?q=https://blog.example.org/b&sa=D", "https://blog.example.org/b"),
    ("https://blog.example.org/c?b=2&a=1", "https://blog.example.org/c?b=2&a=1"),
    ("mailto:someone@example.org", None),
])
def test_post_identity(url: str, identity: str | None) -> None:
    assert post_identity(url) == identity


def test_plausible_date() -> None:
    assert plausible_date(datetime(1989, 12, 31, tzinfo=UTC), NOW) is None
    assert plausible_date(NOW + timedelta(days=2), NOW) is None
    assert plausible_date(datetime(2024, 11, 21, 13, 0), NOW) == datetime(2024, 11, 21, 13, 0,
                                                                           tzinfo=UTC)


# -- retries within one collect (the link checker's rule; a fake sleep records the waits) ----

def pull_retrying(feed: FeedSettings, **retry: Any) -> tuple[Result, list[float]]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    policy = FeedRetry(**{"retries": 2, "backoff": 0.5, "retry_after_cap": 30.0,
                          "dns_pause": 0.25, "sleep": sleep, "rng": random.Random(1), **retry})
    result = run(lambda client: collect_feed(client, feed, TOPICS, NOW, retry=policy))
    return result, waits


OK_FEED = Reply(200, {"Content-Type": RSS_TYPE}, rss(RSS_ITEMS))


def test_a_feed_that_fails_for_a_moment_is_retried(new_server: ServerFactory) -> None:
    server = new_server()
    url = server.route("/rss", in_turn(Reply(503), Reply(200, {}, b"", reset=True), OK_FEED))
    (posts, outcome), waits = pull_retrying(feed_at(url, "feed"))
    assert outcome.status is SourceStatus.OK and len(posts) == 3
    assert server.count("/rss") == 3
    assert len(waits) == 2 and 0.25 <= waits[0] <= 0.5 and 0.5 <= waits[1] <= 1.0  # backoff


def test_retry_after_is_honoured_up_to_the_cap(new_server: ServerFactory) -> None:
    server = new_server()
    url = server.route("/rss", in_turn(Reply(429, {"Retry-After": "7"}), OK_FEED))
    (_, outcome), waits = pull_retrying(feed_at(url, "feed"))
    assert outcome.status is SourceStatus.OK and waits == [7.0]
    server.route("/rss", Reply(429, {"Retry-After": "120"}))
    (_, outcome), waits = pull_retrying(feed_at(url, "feed"))
    _expect(outcome, FailureKind.HTTP, "past the cap of 30 s")
    assert waits == []


def test_a_feed_failing_every_time_fails_after_the_retries(new_server: ServerFactory) -> None:
    server = new_server()
    url = server.route("/rss", Reply(500))
    (_, outcome), waits = pull_retrying(feed_at(url, "feed"))
    _expect(outcome, FailureKind.HTTP, "HTTP 500")
    assert server.count("/rss") == 3 and len(waits) == 2


def test_answers_that_will_not_heal_are_not_retried(new_server: ServerFactory) -> None:
    server = new_server()
    gone = server.route("/gone", Reply(404))
    (_, outcome), waits = pull_retrying(feed_at(gone, "feed"))
    _expect(outcome, FailureKind.HTTP, "HTTP 404")
    assert server.count("/gone") == 1 and waits == []
    refused = f"http://127.0.0.1:{closed_port()}/rss"
    (_, outcome), waits = pull_retrying(feed_at(refused, "feed"))
    _expect(outcome, FailureKind.NETWORK, "connection failed")
    assert waits == [0.25]  # refused: tried once more after the pause, as links are
