"""arXiv pulls against a local server serving real-format arXiv Atom replies."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from linkfresh.collector.news.arxiv_source import ArxivPull, build_arxiv_client, collect_arxiv
from linkfresh.collector.news.outcomes import FailureKind, SourceStatus
from linkfresh.collector.news.relevance import profiles
from linkfresh.collector.types import Topic
from linkfresh.config.settings import ArxivSettings, CheckSettings
from tests.arxiv_atom import (
    ATOM_TYPE,
    ERROR_FEED,
    Entry,
    entries_before,
    feed_xml,
    paging_handler,
    query_params,
)
from tests.servers import LocalServer, Reply, Request, closed_port, html_page

NOW = datetime(2024, 11, 20, 12, 0, tzinfo=UTC)
UA = "linkfresh-test/1.0 (+https://example.invalid/linkfresh)"
ATTENTION = Topic("Attention", arxiv_query="ti:attention", keywords=("attention",))
PRUNING = Topic("Pruning", arxiv_query="ti:pruning", keywords=("pruning",))

ServerFactory = Callable[[], LocalServer]
# The test servers are on loopback, which the address guard refuses unless allowed.
LOOPBACK = CheckSettings(allow_private=True, connect_timeout=0.5, read_timeout=0.5)


def settings_for(url: str, **overrides: object) -> ArxivSettings:
    values: dict[str, object] = {"base_url": url, "delay": 0.0, "backoff": 0.0, "retries": 2,
                                 "timeout": 0.5, "page_size": 2, "max_per_topic": 50,
                                 "lookback_days": 14}
    return ArxivSettings.model_validate(values | overrides)


def run(
    settings: ArxivSettings, topics: list[Topic], **kwargs: Any
) -> tuple[ArxivPull, list[float]]:
    sleeps: list[float] = []
    client = build_arxiv_client(settings, UA, LOOPBACK)
    pull = collect_arxiv(client, topics, settings, NOW, sleep=sleeps.append, **kwargs)
    return pull, sleeps


def test_first_run_reads_the_window_and_stops_paging(new_server: ServerFactory) -> None:
    server = new_server()
    # Five papers inside the 14-day window (3 days apart), three older ones.
    entries = entries_before(NOW, 8, hours=72)
    url = server.route("/api/query", paging_handler({"ti:attention": entries}))
    pull, _ = run(settings_for(url), [ATTENTION])

    assert [p.arxiv_id for p in pull.papers] == [f"2411.{i:05d}" for i in range(4)]
    [outcome] = pull.outcomes
    assert outcome.status is SourceStatus.OK and outcome.items == 4
    # Pages of two: 0-1, 2-3, 4-5 (paper 4 is older than the window: stop there).
    assert server.count("/api/query") == 3 == outcome.requests
    first = server.requests[0]
    params = query_params(first)
    assert params["sortBy"] == "submittedDate" and params["sortOrder"] == "descending"
    assert first.headers["User-Agent"] == UA


def test_paper_fields_from_real_format_atom(new_server: ServerFactory) -> None:
    server = new_server()
    entry = Entry("2411.01234v2", NOW - timedelta(days=1), title="Sparse attention",
                  authors=("A. One", "B. Two", "C. Three"), updated=NOW - timedelta(hours=2),
                  categories=("cs.LG", "cs.CL"))
    url = server.route("/api/query", paging_handler({"ti:attention": [entry]}))
    [paper] = run(settings_for(url), [ATTENTION])[0].papers

    assert (paper.arxiv_id, paper.version) == ("2411.01234", 2)
    assert paper.title == "Sparse attention: a line-wrapped title"
    assert paper.authors == ("A. One", "B. Two", "C. Three")
    assert paper.abstract == "We study sparse attention in large language models."
    assert paper.primary_category == "cs.LG" and paper.categories == ("cs.LG", "cs.CL")
    assert paper.comment == "12 pages, 3 figures"
    assert paper.pdf_url == "http://arxiv.org/pdf/2411.01234v2"
    assert paper.abs_url == "https://arxiv.org/abs/2411.01234"
    assert paper.published == NOW - timedelta(days=1) and paper.published.tzinfo is not None
    assert paper.topics == ("Attention",)


def test_second_run_returns_only_papers_after_last_seen(new_server: ServerFactory) -> None:
    server = new_server()
    entries = entries_before(NOW, 3)
    url = server.route("/api/query", paging_handler({"ti:attention": entries}))
    first, _ = run(settings_for(url), [ATTENTION])
    last_seen = max(paper.published for paper in first.papers)

    entries[:0] = [Entry("2411.09999v1", NOW - timedelta(hours=1), title="Newer")]
    second, _ = run(settings_for(url), [ATTENTION], last_seen={"Attention": last_seen})
    assert [p.arxiv_id for p in second.papers] == ["2411.09999"]


def test_versions_merge_and_a_paper_keeps_every_topic(new_server: ServerFactory) -> None:
    server = new_server()
    day = NOW - timedelta(days=1)
    url = server.route("/api/query", paging_handler({
        "ti:attention": [Entry("2411.00001v1", day)],
        "ti:pruning": [Entry("2411.00001v2", day), Entry("2411.00002v1", day)],
    }))
    pull, _ = run(settings_for(url), [ATTENTION, PRUNING])
    by_id = {paper.arxiv_id: paper for paper in pull.papers}
    assert len(pull.papers) == 2
    assert by_id["2411.00001"].version == 2
    assert by_id["2411.00001"].topics == ("Attention", "Pruning")


def test_cap_per_topic_and_categories_in_query(new_server: ServerFactory) -> None:
    server = new_server()
    query = "(ti:attention) AND (cat:cs.CL OR cat:cs.LG)"
    url = server.route("/api/query", paging_handler({query: entries_before(NOW, 6)}))
    pull, _ = run(settings_for(url, max_per_topic=3, categories=["cs.CL", "cs.LG"]), [ATTENTION])
    assert len(pull.papers) == 3
    [outcome] = pull.outcomes
    assert outcome.note == "window not covered: stopped at max_per_topic = 3"


def test_a_busy_window_is_paged_to_its_end(new_server: ServerFactory) -> None:
    server = new_server()
    # 30 papers in the window, pages of 2: every page is read, no cut-off decides.
    entries = entries_before(NOW, 32, hours=10)
    url = server.route("/api/query", paging_handler({"ti:attention": entries}))
    pull, _ = run(settings_for(url), [ATTENTION])
    [outcome] = pull.outcomes
    assert outcome.items == len(pull.papers) == 32 and outcome.note is None
    assert server.count("/api/query") == 16


def test_results_are_rescored_and_kept_only_where_relevant(new_server: ServerFactory) -> None:
    server = new_server()
    day = NOW - timedelta(days=1)
    abstract = ("We study how attention heads in transformer models share work, and prune "
                "the heads that matter least: a compression of the model. " * 4)
    heads = replace(ATTENTION, keywords=("attention", "attention head", "transformer"))
    pruning = Topic("Pruning", keywords=("pruning", "compression"))
    url = server.route("/api/query", paging_handler({"ti:attention": [
        Entry("2411.00001v1", day, title="Attention heads", summary=abstract),
        Entry("2411.00002v1", day, title="Paying attention to bread",
              summary="Flour, water and salt. " * 12),
        Entry("2411.00003v1", day, title="Pruning attention heads", summary=abstract),
    ]}))
    pull, _ = run(settings_for(url), [heads], relevance=profiles([heads, pruning]))
    by_id = {paper.arxiv_id: paper.topics for paper in pull.papers}
    assert by_id == {"2411.00001": ("Attention",), "2411.00003": ("Pruning", "Attention")}
    [outcome] = pull.outcomes
    assert outcome.items == 2 and outcome.note == "2 of 3 relevant"


def test_one_client_spaces_requests_across_topics(new_server: ServerFactory) -> None:
    server = new_server()
    stamps: list[float] = []
    serve = paging_handler({})

    def handle(request: Request) -> Reply:
        stamps.append(time.monotonic())
        return serve(request)

    url = server.route("/api/query", handle)
    run(settings_for(url, delay=0.2), [ATTENTION, PRUNING, ATTENTION])
    assert len(stamps) == 3
    assert all(b - a >= 0.19 for a, b in itertools.pairwise(stamps))


@pytest.mark.parametrize("status", [200, 400])
def test_error_entry_fails_the_topic_others_go_on(new_server: ServerFactory, status: int) -> None:
    server = new_server()
    good = paging_handler({"ti:pruning": entries_before(NOW, 1)})

    def handle(request: Request) -> Reply:
        if query_params(request)["search_query"] == "ti:attention":
            return Reply(status, {"Content-Type": ATOM_TYPE}, ERROR_FEED)
        return good(request)

    url = server.route("/api/query", handle)
    pull, sleeps = run(settings_for(url), [ATTENTION, PRUNING])
    failed, ok = pull.outcomes
    assert failed.status is SourceStatus.FAILED and failed.failure is FailureKind.API
    assert "incorrect id format for 1234.12345" in (failed.reason or "")
    assert sleeps == []  # an API error is not retried
    assert ok.status is SourceStatus.OK and len(pull.papers) == 1


def test_html_5xx_is_retried_with_backoff_then_fails(new_server: ServerFactory) -> None:
    server = new_server()
    page = html_page("503 Service Unavailable", "<h1>Down for maintenance</h1>")
    url = server.route("/api/query", Reply(503, page.headers, page.body))
    pull, sleeps = run(settings_for(url, retries=3, backoff=1.0), [ATTENTION])
    [outcome] = pull.outcomes
    assert outcome.failure is FailureKind.HTTP and "HTTP 503" in (outcome.reason or "")
    assert server.count("/api/query") == 4
    assert sleeps == [1.0, 2.0, 4.0]


def test_transient_500_and_empty_page_recover(new_server: ServerFactory) -> None:
    server = new_server()
    good = paging_handler({"ti:attention": entries_before(NOW, 3)})
    script = iter([Reply(500, {}, "oops"),
                   Reply(200, {"Content-Type": ATOM_TYPE}, feed_xml([], total=3, start=0))])

    def handle(request: Request) -> Reply:
        return next(script, None) or good(request)

    url = server.route("/api/query", handle)
    pull, sleeps = run(settings_for(url, retries=3), [ATTENTION])
    [outcome] = pull.outcomes
    assert outcome.status is SourceStatus.OK and outcome.note == "2 retries"
    assert len(pull.papers) == 3 and len(sleeps) == 2


def test_stalled_reply_times_out(new_server: ServerFactory) -> None:
    server = new_server()
    url = server.route("/api/query", Reply(200, {"Content-Type": ATOM_TYPE}, "", delay=3.0))
    started = time.monotonic()
    pull, _ = run(settings_for(url, timeout=0.2, retries=1), [ATTENTION])
    assert time.monotonic() - started < 2.0
    [outcome] = pull.outcomes
    assert outcome.failure is FailureKind.NETWORK and "timed out" in (outcome.reason or "")
    assert server.count("/api/query") == 2


def test_refused_is_a_network_failure() -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/query"
    pull, sleeps = run(settings_for(url, retries=1), [ATTENTION, PRUNING])
    assert [o.failure for o in pull.outcomes] == [FailureKind.NETWORK, FailureKind.NETWORK]
    assert pull.papers == ()
    # Offline, only the first topic waits out its retries; the rest fail at once.
    assert len(sleeps) == 1
    assert pull.outcomes[1].reason is not None
    assert pull.outcomes[1].reason.startswith("not tried: arXiv unreachable")
    assert pull.outcomes[1].requests == 0


@pytest.mark.parametrize(("body", "words"), [
    (html_page("Welcome", "<p>captive portal</p>").body, "HTML"),
    ("<feed xmlns='http://www.w3.org/2005/Atom'><entry>", "malformed"),
    ('<?xml version="1.0"?><!DOCTYPE f [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     '<feed xmlns="http://www.w3.org/2005/Atom"><title>&x;</title></feed>', "entities"),
])
def test_bad_200_replies_fail_the_topic(new_server: ServerFactory, body: str, words: str) -> None:
    server = new_server()
    url = server.route("/api/query", Reply(200, {"Content-Type": ATOM_TYPE}, body))
    [outcome] = run(settings_for(url), [ATTENTION])[0].outcomes
    assert outcome.failure is FailureKind.CONTENT and words in (outcome.reason or "")


def test_topics_without_a_query_are_not_sources(new_server: ServerFactory) -> None:
    server = new_server()
    url = server.route("/api/query", paging_handler({}))
    pull, _ = run(settings_for(url), [Topic("Keywords only", keywords=("x",))])
    assert pull.outcomes == () and server.count("/api/query") == 0


def test_unparsable_entry_date_fails_only_that_topic(new_server: ServerFactory) -> None:
    server = new_server()
    good = paging_handler({"ti:pruning": entries_before(NOW, 1)})
    bad = feed_xml([Entry("2411.00001v1", NOW)], total=1, start=0).replace(
        "<published>2024-11-20T12:00:00Z</published>", "<published>yesterday</published>")

    def handle(request: Request) -> Reply:
        if query_params(request)["search_query"] == "ti:attention":
            return Reply(200, {"Content-Type": ATOM_TYPE}, bad)
        return good(request)

    url = server.route("/api/query", handle)
    pull, _ = run(settings_for(url), [ATTENTION, PRUNING])
    failed, ok = pull.outcomes
    assert failed.failure is FailureKind.CONTENT and "unreadable reply" in (failed.reason or "")
    assert ok.ok and len(pull.papers) == 1
