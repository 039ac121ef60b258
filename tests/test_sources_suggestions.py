"""Suggested links for resources named without one: which searches, what is a clear match, and
the collect stage searching a local arXiv server once per resource."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from linkfresh.collector.news.named_resources import (
    KNOWN_TITLES,
    TitleQuery,
    clear_match,
    find_resource_matches,
    queries_for,
)
from linkfresh.collector.news.outcomes import SourceKind, SourceOutcome, SourceStatus
from linkfresh.collector.types import NamedResource, Paper
from linkfresh.context import AppContext
from linkfresh.stages.collect import collect_stage
from linkfresh.storage.migrations import open_database
from linkfresh.storage.models import SourceRun
from linkfresh.storage.sources import load_resource_matches
from tests.arxiv_atom import ATOM_TYPE, Entry, feed_xml, query_params
from tests.configs import write_config
from tests.servers import LocalServer, Reply, Request

NOW = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
BERT = "BERT paper"


def resource(text: str, kind: str = "Papers", has_link: bool = False) -> NamedResource:
    return NamedResource(kind, text, 10, ("Phase 1",), has_link)


def paper(title: str, arxiv_id: str = "1706.03762", year: int = 2017) -> Paper:
    when = datetime(year, 6, 12, tzinfo=UTC)
    return Paper(arxiv_id, 1, title, ("A. Author",), "", ("cs.CL",), when, when,
                 f"https://arxiv.org/abs/{arxiv_id}")


@pytest.mark.parametrize(("kind", "text", "expected"), [
    ("Papers", 'Read the original papers (search on arXiv: "BERT paper", "GPT-3 paper", '
               '"T5 paper").',
     [TitleQuery(KNOWN_TITLES["bert"]), TitleQuery(KNOWN_TITLES["gpt-3"]),
      TitleQuery(KNOWN_TITLES["t5"])]),
    ("Paper", '\u201cAttention is All You Need\u201d (Vaswani et al., 2017)',
     [TitleQuery("Attention is All You Need")]),
    ("Paper", "Attention Is All You Need (Vaswani et al., 2017)",
     [TitleQuery("Attention Is All You Need")]),
    ("Paper", 'The "LLaMA paper" and the "llama paper"',
     [TitleQuery("LLaMA", model="LLaMA"), TitleQuery("llama", model="llama")]),
    ("Book", "Speech and Language Processing by Jurafsky and Martin", []),
    ("Book", '"Speech and Language Processing" by Jurafsky and Martin',
     [TitleQuery("Speech and Language Processing")]),
    ("Paper", 'on "attention heads"', []),  # two words: a topic, not a title
    ("Video", '"Transformers explained visually" by StatQuest', []),
    ("Course", '"Stanford NLP" on Coursera', []),
])
def test_queries_for(kind: str, text: str, expected: list[TitleQuery]) -> None:
    assert queries_for(resource(text, kind)) == expected


def test_a_resource_with_a_link_needs_no_search() -> None:
    assert queries_for(resource('"BERT paper"', has_link=True)) == []


def test_search_string_is_a_title_phrase_without_quotes_or_colons() -> None:
    assert TitleQuery('BERT: "deep" (bidirectional)').search == 'ti:"BERT deep bidirectional"'


def test_title_match_allows_case_and_punctuation_and_prefers_the_closest() -> None:
    query = TitleQuery("Attention is All You Need")
    exact = paper("Attention Is All You Need")
    near = paper("Attention is not all you need", "2103.03404", 2021)
    assert clear_match(query, [near, exact]) == exact
    assert clear_match(query, [paper("Attention is all you need!")]) is not None
    assert clear_match(query, [paper("Attention Is All You Need In Speech Separation")]) is None
    assert clear_match(query, [paper("Efficient Transformers: A Survey")]) is None
    assert clear_match(query, []) is None


def test_model_match_wants_the_introducing_title_earliest_first() -> None:
    query = TitleQuery("LLaMA", model="LLaMA")
    original = paper("LLaMA: Open and Efficient Foundation Language Models", "2302.13971", 2023)
    later = paper("LLaMA: a follow-up that reuses the name", "2402.00001", 2024)
    assert clear_match(query, [later, original]) == original
    assert clear_match(query, [paper("Llama 2: Open Foundation and Fine-Tuned Chat Models",
                                     "2307.09288", 2023)]) is None
    assert clear_match(query, [paper("Fine-tuning LLaMA: lessons")]) is None


def _ok(papers: list[Paper]) -> tuple[list[Paper], SourceOutcome]:
    return papers, SourceOutcome("q", SourceKind.ARXIV, SourceStatus.OK, items=len(papers))


def test_find_suggestions_stops_at_a_match_and_at_the_cap() -> None:
    asked: list[TitleQuery] = []

    def search(query: TitleQuery) -> tuple[list[Paper], SourceOutcome]:
        asked.append(query)
        return _ok([paper(KNOWN_TITLES["gpt-3"], "2005.14165", 2020)])

    items = [("g", resource('"BERT paper", "GPT-3 paper", "T5 paper"')),
             ("g", resource('"T5 paper"', kind="Paper"))]
    found, outcome = find_resource_matches(items, search, max_searches=2)
    assert len(asked) == 2 and [s.title for s in found] == [KNOWN_TITLES["gpt-3"]]
    assert outcome.ok and outcome.items == 1 and outcome.note == "search cap reached"


def _atom(by_query: dict[str, list[Entry]], fail: set[str]) -> Callable[[Request], Reply]:
    """Real-format replies; titles exactly as given (the shared helper wraps them)."""

    def handle(request: Request) -> Reply:
        query = query_params(request).get("search_query", "")
        if query in fail:
            return Reply(503, {"Content-Type": "text/plain"}, "busy")
        entries = by_query.get(query, [])
        xml = feed_xml(entries, len(entries), 0, query)
        xml = xml.replace(":\n  a line-wrapped title", "")
        return Reply(200, {"Content-Type": ATOM_TYPE}, xml)

    return handle


GUIDE = """# A guide

## Phase 1

1.  **Transformers:**

      * **Topics:**
          * **Attention:** what it is.
      * **Resources:**
          * **Paper:** "Attention Is All You Need" by Vaswani et al.
          * **Papers:** Read the "BERT paper" and the "LLaMA paper".
          * **Video:** "Transformers explained visually" by StatQuest.
          * **Book:** [Speech and Language Processing](https://web.stanford.edu/~jurafsky/slp3/)
"""


def _app(tmp_path: Path, arxiv_url: str) -> AppContext:
    (tmp_path / "guide.md").write_text(GUIDE)
    # arXiv goes through the address guard: the loopback test server must be allowed.
    config = write_config(tmp_path, guides=["guide.md"], fast=False,
                          check={"allow_private": True},
                          database=f"sqlite:///{tmp_path / 'db.sqlite'}", feeds=[],
                          arxiv={"base_url": arxiv_url}, topics=[{"name": "Attention"}])
    return AppContext(config_path=config)


def test_collect_stage_searches_once_and_stores_suggestions(
    new_server: Callable[[], LocalServer], tmp_path: Path
) -> None:
    server = new_server()
    attention = 'ti:"Attention Is All You Need"'
    by_query = {
        attention: [Entry("2103.03404v1", datetime(2021, 3, 5, tzinfo=UTC),
                          title="Attention is Not All You Need"),
                    Entry("1706.03762v7", datetime(2017, 6, 12, tzinfo=UTC),
                          title="Attention Is All You Need")],
        'ti:"LLaMA"': [Entry("2307.09288v2", datetime(2023, 7, 18, tzinfo=UTC),
                             title="Llama 2: Open Foundation and Fine-Tuned Chat Models"),
                       Entry("2302.13971v1", datetime(2023, 2, 27, tzinfo=UTC),
                             title="LLaMA: Open and Efficient Foundation Language Models")],
    }
    fail = {attention}
    arxiv_url = server.route("/api/query", _atom(by_query, fail))
    app = _app(tmp_path, arxiv_url)
    engine = open_database(app.database_url())
    papers_line = 'Read the "BERT paper" and the "LLaMA paper".'

    # 1. The first search fails: recorded as a failed source, the stage still succeeds.
    first = collect_stage(app, engine, NOW)
    assert first.exit_code == 0 and first.outcomes == ()
    assert [(o.source, o.ok) for o in first.extra] == [("suggestions", False)]
    assert first.extra[0].reason == "HTTP 503"
    assert load_resource_matches(engine) == {}
    with Session(engine) as session:
        runs = session.execute(select(SourceRun.source, SourceRun.ok)).all()
    assert runs == [("arxiv:suggestions", False)]

    # 2. The search works now: the title line, then "BERT paper" (no match) and "LLaMA paper".
    fail.clear()
    second = collect_stage(app, engine, NOW + timedelta(hours=1))
    assert [(o.source, o.ok, o.items) for o in second.extra] == [("suggestions", True, 2)]
    assert load_resource_matches(engine) == {
        '"Attention Is All You Need" by Vaswani et al.':
            ("Attention Is All You Need", "https://arxiv.org/abs/1706.03762"),
        papers_line: ("LLaMA: Open and Efficient Foundation Language Models",
                      "https://arxiv.org/abs/2302.13971"),
    }
    asked = server.count("/api/query")
    assert asked == 1 + 3

    # 3. Everything is settled: no search at all, no suggestions source.
    third = collect_stage(app, engine, NOW + timedelta(hours=2))
    assert third.extra == () and server.count("/api/query") == asked
    engine.dispose()
