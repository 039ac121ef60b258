"""arXiv pulls per topic -> `Paper` values and one `SourceOutcome` per topic.

Built on the `arxiv` package's `Client`, with what it lacks added to its requests session:
the guarded transport (`arxiv_transport`: address guard, no proxies, a total deadline, our
user agent), and a check that a 200 reply really is a result page.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import arxiv
import requests

from linkfresh.collector.news.arxiv_reply import ArxivReplyError, check_reply
from linkfresh.collector.news.arxiv_transport import ArxivBlocked, GuardedAdapter
from linkfresh.collector.news.outcomes import (
    FailureKind,
    SourceKind,
    SourceOutcome,
    SourceStatus,
    failed,
)
from linkfresh.collector.news.relevance import Profile, topic_names
from linkfresh.collector.types import Paper, Topic
from linkfresh.collector.web.client import Resolver
from linkfresh.config.settings import ArxivSettings, CheckSettings

_VERSION = re.compile(r"^(?P<id>.+?)v(?P<version>\d+)$")


def build_arxiv_client(settings: ArxivSettings, user_agent: str, check: CheckSettings,
                       resolver: Resolver | None = None) -> arxiv.Client:
    """The one arXiv client of a run: it spaces every request by `settings.delay` seconds.

    arXiv's API terms (https://info.arxiv.org/help/api/tou.html) ask for no more than one
    request every three seconds *in total*, so one client must serve every topic. Every
    request goes through the guarded client built from `check` (the address guard on each
    hop, no environment proxies), with our user agent and `settings.timeout` seconds for
    the whole reply.
    """
    client = arxiv.Client(page_size=settings.page_size, delay_seconds=settings.delay,
                          num_retries=0)
    base = settings.base_url.replace("{", "{{").replace("}", "}}")
    client.query_url_format = base + ("&" if "?" in base else "?") + "{}"
    adapter = GuardedAdapter(check, user_agent, settings.timeout, resolver)
    session: requests.Session = client._session  # the package exposes no other way in
    session.trust_env = False  # no proxies from the environment: the guard must see all
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.hooks["response"].append(check_reply)
    return client


def _requests_sent(client: arxiv.Client) -> int:
    adapter = client._session.get_adapter("https://export.arxiv.org/")
    return adapter.sent if isinstance(adapter, GuardedAdapter) else 0


def _transient(error: Exception) -> tuple[bool, FailureKind, str]:
    """Is `error` worth a retry, what kind of failure is it, and how to say it.

    | error                                   | retried | kind     |
    |-----------------------------------------|---------|----------|
    | timeout (connect or read)               | yes     | network  |
    | refused, reset, unknown host            | yes     | network  |
    | HTTP 5xx or 429                         | yes     | http     |
    | empty page while the totals say more    | yes     | content  |
    | HTTP 4xx (a bad query)                  | no      | http     |
    | arXiv error entry, HTML, malformed Atom | no      | api/...  |
    | anything else (say, an unparsable date) | no      | content  |

    arXiv's manual notes that pages come back empty now and then and that a retry helps.
    """
    if isinstance(error, ArxivBlocked):
        return False, FailureKind.BLOCKED, str(error)
    if isinstance(error, requests.Timeout):
        return True, FailureKind.NETWORK, f"timed out: {_short(error)}"
    if isinstance(error, requests.ConnectionError):
        cause = "timed out" if "timed out" in str(error).lower() else "connection failed"
        return True, FailureKind.NETWORK, f"{cause}: {_short(error)}"
    if isinstance(error, arxiv.HTTPError):
        again = error.status >= 500 or error.status == 429
        return again, FailureKind.HTTP, f"HTTP {error.status}"
    if isinstance(error, arxiv.UnexpectedEmptyPageError):
        return True, FailureKind.CONTENT, "arXiv returned an empty page"
    if isinstance(error, ArxivReplyError):
        return error.transient, error.kind, error.reason
    if isinstance(error, requests.RequestException):
        return False, FailureKind.NETWORK, _short(error)
    # Anything else came from parsing the reply (the package lets e.g. a bad date's
    # ValueError through): this topic failed, the run goes on.
    reason = f"unreadable reply: {error.__class__.__name__}: {_short(error)}"
    return False, FailureKind.CONTENT, reason


def _short(error: Exception) -> str:
    text = str(error) or error.__class__.__name__
    return text if len(text) <= 200 else text[:197] + "..."


def to_paper(result: arxiv.Result, topic: str) -> Paper:
    """An `arxiv.Result` as a `Paper` keyed by its id without version."""
    short = result.get_short_id()
    match = _VERSION.match(short)
    arxiv_id, version = (match["id"], int(match["version"])) if match else (short, 1)
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=" ".join(result.title.split()),
        authors=tuple(author.name for author in result.authors),
        abstract=" ".join(result.summary.split()),
        categories=tuple(result.categories),
        published=result.published,
        updated=result.updated,
        abs_url=f"https://arxiv.org/abs/{arxiv_id}",
        pdf_url=result.pdf_url,
        primary_category=result.primary_category or None,
        comment=" ".join(result.comment.split()) if result.comment else None,
        topics=(topic,),
    )


def build_query(query: str, categories: Iterable[str]) -> str:
    """The topic's query, limited to `categories` when any are configured."""
    cats = " OR ".join(f"cat:{category}" for category in categories)
    return f"({query}) AND ({cats})" if cats else query


def fetch_topic(
    client: arxiv.Client,
    topic: Topic,
    since: datetime,
    settings: ArxivSettings,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[Paper], SourceOutcome]:
    """Papers submitted after `since` for one topic, newest first.

    Sorted by submission date, newest first, and paged until the first older paper: the
    whole window is read, however many match (the relevance score decides what is shown,
    not a cut-off). `max_per_topic` is only a safety ceiling; reaching it says so in the
    outcome's note. A failure after retries keeps nothing from this topic (the next run
    starts again from the same `since`, so nothing is lost).
    """
    search = arxiv.Search(query=build_query(topic.arxiv_query, settings.categories),
                          max_results=settings.max_per_topic,
                          sort_by=arxiv.SortCriterion.SubmittedDate,
                          sort_order=arxiv.SortOrder.Descending)
    sent_before = _requests_sent(client)
    papers: list[Paper] = []
    attempt = 0
    covered = False
    while True:
        try:
            # Resume where a failed attempt stopped: `offset` skips what we already have.
            for result in client.results(search, offset=len(papers)):
                paper = to_paper(result, topic.name)
                if paper.published <= since:
                    covered = True
                    break
                papers.append(paper)
            break
        except Exception as error:  # every failure becomes this topic's outcome
            again, kind, reason = _transient(error)
            if not again or attempt >= settings.retries:
                tries = f" after {attempt + 1} tries" if attempt else ""
                return [], failed(topic.name, SourceKind.ARXIV, kind, reason + tries,
                                  url=settings.base_url,
                                  requests=_requests_sent(client) - sent_before)
            sleep(settings.backoff * 2**attempt)
            attempt += 1
    notes = [f"{attempt} retries"] if attempt else []
    if not covered and len(papers) >= settings.max_per_topic:
        notes.append(f"window not covered: stopped at max_per_topic = {settings.max_per_topic}")
    outcome = SourceOutcome(topic.name, SourceKind.ARXIV, SourceStatus.OK, items=len(papers),
                            url=settings.base_url,
                            requests=_requests_sent(client) - sent_before,
                            note="; ".join(notes) or None)
    return papers, outcome


def refilter(papers: list[Paper], outcome: SourceOutcome, relevance: Sequence[Profile]
             ) -> tuple[list[Paper], SourceOutcome]:
    """Keep the papers relevant to some topic, each with those topics, best first.

    arXiv's search stems words and reads phrases loosely, so a query's results are
    candidates only; the outcome counts what was kept and notes what was not.
    """
    kept = []
    for paper in papers:
        names = topic_names(paper.title, paper.abstract, relevance)
        if names:
            kept.append(replace(paper, topics=names))
    if not papers:
        return kept, outcome
    note = f"{len(kept)} of {len(papers)} relevant"
    return kept, replace(outcome, items=len(kept),
                         note=f"{outcome.note}; {note}" if outcome.note else note)


@dataclass(frozen=True, slots=True)
class ArxivPull:
    """Every topic's papers, merged by id, and one outcome per topic."""

    papers: tuple[Paper, ...]
    outcomes: tuple[SourceOutcome, ...]


def merge_papers(papers: Iterable[Paper]) -> tuple[Paper, ...]:
    """One paper per id: the newest version, with the topics of every copy (first seen first)."""
    merged: dict[str, Paper] = {}
    for paper in papers:
        seen = merged.get(paper.arxiv_id)
        if seen is None:
            merged[paper.arxiv_id] = paper
            continue
        newest = paper if paper.version > seen.version else seen
        topics = tuple(dict.fromkeys(seen.topics + paper.topics))
        merged[paper.arxiv_id] = replace(newest, topics=topics)
    return tuple(sorted(merged.values(), key=lambda p: (p.published, p.arxiv_id), reverse=True))


def collect_arxiv(
    client: arxiv.Client,
    topics: Iterable[Topic],
    settings: ArxivSettings,
    now: datetime,
    last_seen: Mapping[str, datetime | None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_outcome: Callable[[SourceOutcome], None] | None = None,
    relevance: Sequence[Profile] | None = None,
) -> ArxivPull:
    """Pull every topic with an arXiv query, one after the other through the one `client`.

    With `relevance` (every topic's profile), each result is re-scored and kept only when
    relevant to some topic, under those topics (`refilter`).

    `last_seen[topic]` is the submission time of the newest paper already stored for that
    topic; a topic with none looks back `settings.lookback_days` from `now`.
    `on_outcome` hears each topic's outcome as it is known (for progress displays).
    Once a topic fails at the network level (through its retries), arXiv is unreachable:
    the remaining topics fail at once with that reason instead of each waiting out its own
    retries, which offline would take minutes.
    """
    window_start = now - timedelta(days=settings.lookback_days)
    papers: list[Paper] = []
    outcomes: list[SourceOutcome] = []
    unreachable: SourceOutcome | None = None
    for topic in topics:
        if not topic.arxiv_query.strip():
            continue
        seen = (last_seen or {}).get(topic.name)
        since = seen if seen is not None else window_start
        if unreachable is not None:
            found, outcome = [], replace(
                unreachable, source=topic.name, requests=0,
                reason=f"not tried: arXiv unreachable ({unreachable.reason})")
        else:
            found, outcome = fetch_topic(client, topic, since, settings, sleep)
            if outcome.network_failure:
                unreachable = outcome
            elif relevance is not None and outcome.ok:
                found, outcome = refilter(found, outcome, relevance)
        papers.extend(found)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return ArxivPull(merge_papers(papers), tuple(outcomes))


def search_titles(
    client: arxiv.Client,
    query: str,
    settings: ArxivSettings,
    *,
    max_results: int = 10,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[Paper], SourceOutcome]:
    """The best `max_results` papers for an arXiv `query` (e.g. `ti:"..."`), by relevance.

    Retried like a topic pull (`_transient`); the papers carry no topic. The outcome is
    named after the query, for callers that report searches one by one.
    """
    search = arxiv.Search(query=query, max_results=max_results,
                          sort_by=arxiv.SortCriterion.Relevance)
    sent_before = _requests_sent(client)
    attempt = 0
    while True:
        try:
            papers = [replace(to_paper(result, ""), topics=())
                      for result in client.results(search)]
            break
        except Exception as error:  # every failure becomes this search's outcome
            again, kind, reason = _transient(error)
            if not again or attempt >= settings.retries:
                tries = f" after {attempt + 1} tries" if attempt else ""
                return [], failed(query, SourceKind.ARXIV, kind, reason + tries,
                                  url=settings.base_url,
                                  requests=_requests_sent(client) - sent_before)
            sleep(settings.backoff * 2**attempt)
            attempt += 1
    return papers, SourceOutcome(query, SourceKind.ARXIV, SourceStatus.OK, items=len(papers),
                                 url=settings.base_url,
                                 requests=_requests_sent(client) - sent_before)
