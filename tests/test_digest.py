"""The digest: building from plain values, golden markdown/JSON, determinism, hostile input.

Regenerate the golden files with `UPDATE_GOLDEN=1 pytest`; the end-to-end week and
docs/example-digest.md are in test_digest_e2e.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from linkfresh.collector.news.relevance import profiles
from linkfresh.collector.types import Paper, Post, Topic
from linkfresh.reports.digest import build_digest, render_digest_json, render_digest_markdown
from linkfresh.reports.digest_model import (
    DIGEST_SCHEMA_VERSION,
    BrokenLink,
    Digest,
    FailedSource,
    GuidePlace,
    Period,
    UnverifiedLink,
)
from linkfresh.reports.escape import safe_url
from tests.digest_seed import HOSTILE_PAPER_TITLE, HOSTILE_POST_TITLE, bundled_guide, seeded_week
from tests.golden_files import GOLDEN, assert_golden
from tests.schemas import valid_document

START = datetime(2026, 11, 23, tzinfo=UTC)
WEEK = Period(START, START + timedelta(days=7))


@pytest.fixture(scope="module")
def week() -> Digest:
    return seeded_week(bundled_guide())


def test_markdown_golden(week: Digest) -> None:
    assert_golden(GOLDEN / "digest.md", render_digest_markdown(week))


def test_json_golden(week: Digest) -> None:
    assert_golden(GOLDEN / "digest.json", render_digest_json(week))


def test_same_input_same_bytes() -> None:
    first, second = seeded_week(bundled_guide()), seeded_week(bundled_guide())
    assert render_digest_markdown(first).encode() == render_digest_markdown(second).encode()
    assert render_digest_json(first).encode() == render_digest_json(second).encode()


def test_input_order_does_not_matter(week: Digest) -> None:
    shuffled = replace(week, newly_broken=tuple(reversed(week.newly_broken)))
    rebuilt = build_digest(
        period=week.period, now=week.period.end, guides=week.guides, links_checked=10,
        newly_broken=shuffled.newly_broken,
    )
    assert rebuilt.newly_broken == week.newly_broken


def test_rendered_digest_has_only_our_structure(week: Digest) -> None:
    """Hostile titles add no link, image, HTML or heading to the whole document."""
    tokens = MarkdownIt("commonmark", {"html": True, "linkify": True}).enable(
        ["table", "strikethrough", "linkify"]).parse(render_digest_markdown(week))
    children = [child for token in tokens for child in token.children or []]
    assert not [t for t in tokens + children if t.type.startswith(("html", "image"))]
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings[0] == "Link digest 2026-W48"
    assert not [h for h in headings if "Breaking" in h]
    hrefs = {child.attrs["href"] for child in children if child.type == "link_open"}
    assert all(href.startswith(("https://", "http://")) for href in hrefs)
    assert not [href for href in hrefs if "javascript" in href or href.endswith("p.png")]
    text = "".join(child.content for child in children if child.type == "text")
    assert HOSTILE_PAPER_TITLE in text
    assert HOSTILE_POST_TITLE.replace("\n", " ") in text


def test_headline_counts(week: Digest) -> None:
    numbers = week.headline
    assert (numbers.broken, numbers.newly_broken, numbers.fixed) == (3, 2, 1)
    assert numbers.unverified == 1 and numbers.to_update == 11
    assert numbers.new_papers == 9  # ten rows, one of them a second version
    assert numbers.new_posts == 4 and numbers.sources_failed == 1


def test_empty_week_shows_only_the_headline() -> None:
    digest = build_digest(period=WEEK, now=WEEK.end, guides=["g.md"], links_checked=0)
    markdown = render_digest_markdown(digest)
    assert markdown.count("## ") == 0 and markdown.startswith("# Link digest 2026-W48\n")
    assert "| 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |" in markdown


def _paper(number: int, day: int, topics: tuple[str, ...], version: int = 1) -> Paper:
    moment = START + timedelta(days=day)
    return Paper(f"2611.{number:05d}", version, f"Paper {number}", ("A", "B", "C", "D"), "",
                 (), moment, moment, f"https://arxiv.org/abs/2611.{number:05d}", topics=topics)


def test_topics_capped_newest_first_in_guide_order() -> None:
    papers = [_paper(n, n % 7, ("Beta",)) for n in range(8)] + [_paper(20, 1, ("Alpha",)),
                                                                  _paper(21, 1, ())]
    digest = build_digest(period=WEEK, now=WEEK.end, guides=["g.md"], links_checked=1,
                          papers=papers, topics=["Beta", "Alpha"], per_topic=3, max_authors=2)
    assert [news.topic for news in digest.topics] == ["Beta", "Alpha", "Other"]
    beta = digest.topics[0]
    assert [paper.arxiv_id for paper in beta.papers] == ["2611.00006", "2611.00005", "2611.00004"]
    assert beta.more_papers == 5
    assert beta.papers[0].authors == ("A", "B") and beta.papers[0].more_authors == 2
    text = render_digest_markdown(digest)
    assert "Papers (3 of 8, best first):" in text
    assert "- … and 5 more papers in the JSON digest (`digest-2026-W48.json`)" in text
    assert [p.arxiv_id for p in beta.further_papers][:2] == ["2611.00003", "2611.00002"]


def test_topic_mappings_are_accepted() -> None:
    both = _paper(1, 2, ())
    digest = build_digest(period=WEEK, now=WEEK.end, guides=["g.md"], links_checked=1,
                          papers={"B": [both, _paper(2, 1, ())], "A": [both]}, topics=["A", "B"])
    # one paper, one place: listed under its first topic, mentioned under the other
    assert [(news.topic, len(news.papers)) for news in digest.topics] == [("A", 0), ("B", 2)]
    assert [m.listed_under for m in digest.topics[0].mentions] == ["B"]
    assert digest.headline.new_papers == 2


def test_posts_without_date_come_last_and_duplicates_collapse() -> None:
    moment = START + timedelta(days=2)
    posts = [Post("https://b.example/1", "Dated", "B", moment, topics=("T",)),
             Post("https://a.example/1", "Undated", "A", None, topics=("T",)),
             Post("https://b.example/1", "Dated again", "B", moment, topics=("T",))]
    digest = build_digest(period=WEEK, now=WEEK.end, guides=["g.md"], links_checked=1,
                          posts=posts)
    assert [post.url for post in digest.topics[0].posts] == ["https://b.example/1",
                                                             "https://a.example/1"]
    assert digest.headline.new_posts == 2


def test_still_broken_longest_first_with_days_and_cap() -> None:
    place = (GuidePlace("g.md", 3, ("S",)),)
    still = [BrokenLink(f"https://x.example/{n}", place, "broken", START - timedelta(days=n),
                        status=404) for n in range(5)]
    digest = build_digest(period=WEEK, now=WEEK.end, guides=["g.md"], links_checked=5,
                          still_broken=still, list_cap=2)
    assert [item.days for item in digest.still_broken.items] == [11, 10]
    assert digest.still_broken.more == 3 and digest.headline.broken == 5
    markdown = render_digest_markdown(digest)
    assert "## Still broken (5)" in markdown and "- … and 3 more" in markdown
    assert "HTTP 404 for 11 days (since 2026-11-19); line 3 (S)" in markdown


def test_unverified_is_never_counted_as_broken() -> None:
    unverified = [UnverifiedLink("https://x.example/", (GuidePlace("g.md", 1),), "bot wall", 403)]
    digest = build_digest(period=WEEK, now=WEEK.end, guides=["g.md"], links_checked=1,
                          unverified=unverified)
    assert digest.headline.broken == 0 and digest.headline.unverified == 1


def test_several_guides_name_the_guide_in_places() -> None:
    broken = [BrokenLink("https://x.example/", (GuidePlace("b.md", 2), GuidePlace("a.md", 9)),
                         "broken", START, error="connection refused")]
    digest = build_digest(period=WEEK, now=WEEK.end, guides=["a.md", "b.md"], links_checked=1,
                          newly_broken=broken,
                          failed_sources=[FailedSource("arxiv", "Transformers", "HTTP 503")])
    markdown = render_digest_markdown(digest)
    assert "Guides: `a.md`, `b.md`" in markdown
    assert "where: `b.md` line 2; `a.md` line 9" in markdown
    assert "connection refused since 2026-11-23" in markdown
    assert "- arxiv Transformers: HTTP 503" in markdown


def test_json_schema_and_types(week: Digest) -> None:
    document = valid_document(render_digest_json(week), "digest")
    assert list(document)[:2] == ["schema", "schema_version"]
    assert document["schema_version"] == DIGEST_SCHEMA_VERSION
    assert document["week"] == "2026-W48"
    assert document["period"] == {"start": "2026-11-23T00:00:00Z", "end": "2026-11-30T00:00:00Z"}
    first = document["newly_broken"][0]
    assert first["suggestion"]["kind"] == "redirect"
    assert first["places"][0]["section"][-1].startswith("2. Introduction")
    assert document["still_broken"]["more"] == 0
    titles = [paper["title"] for topic in document["topics"] for paper in topic["papers"]]
    assert HOSTILE_PAPER_TITLE in titles  # JSON carries raw values; escaping is markdown's job


@pytest.mark.parametrize(
    ("start", "end", "week"),
    [
        (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC), "2026-W48"),
        (datetime(2026, 11, 23, 8, tzinfo=UTC), datetime(2026, 11, 30, 8, tzinfo=UTC), "2026-W48"),
        (datetime(2026, 12, 28, tzinfo=UTC), datetime(2027, 1, 4, tzinfo=UTC), "2026-W53"),
    ],
)
def test_iso_week_names_the_week_mostly_covered(start: datetime, end: datetime, week: str) -> None:
    assert Period(start, end).iso_week == week


_web_text = st.text(max_size=40)


@given(titles=st.lists(_web_text, min_size=1, max_size=4), source=_web_text, topic=_web_text,
       author=_web_text, reason=_web_text, url_tail=_web_text)
@settings(max_examples=150, deadline=None)
def test_any_web_text_adds_no_structure(titles: list[str], source: str, topic: str,
                                        author: str, reason: str, url_tail: str) -> None:
    moment = START + timedelta(days=1)
    papers = [Paper(f"2611.{n:05d}", 1, title, (author,), "", (), moment, moment,
                    f"https://arxiv.org/abs/2611.{n:05d}", topics=(topic or "t",))
              for n, title in enumerate(titles)]
    posts = [Post(f"https://blog.example/{url_tail}", titles[0], source, moment,
                  topics=(topic or "t",))]
    broken = [BrokenLink(f"https://x.example/{url_tail}", (GuidePlace("g.md", 1, (reason,)),),
                         "broken", moment, error=reason)]
    digest = build_digest(period=WEEK, now=WEEK.end, guides=["g.md"], links_checked=1,
                          papers=papers, posts=posts, newly_broken=broken,
                          failed_sources=[FailedSource("feed", source, reason)])
    tokens = MarkdownIt("commonmark", {"html": True, "linkify": True}).enable(
        ["table", "strikethrough", "linkify"]).parse(render_digest_markdown(digest))
    children = [child for token in tokens for child in token.children or []]
    assert not [t for t in tokens + children if t.type.startswith(("html", "image"))]
    levels = [t.tag for t in tokens if t.type == "heading_open"]
    assert levels == ["h1", "h2", "h2", "h3", "h2"]
    hrefs = [child.attrs["href"] for child in children if child.type == "link_open"]
    linkable = [safe_url(f"https://{host}/{url_tail}") for host in ("blog.example", "x.example")]
    assert len(hrefs) == len(papers) + sum(url is not None for url in linkable)
    assert all(str(href).startswith(("https://arxiv.org/abs/", "https://blog.example/",
                                     "https://x.example/")) for href in hrefs)


def test_relevance_ranks_explains_and_places_each_item_once() -> None:
    topics = profiles([
        Topic("Inference", keywords=("quantization", "speculative decoding", "kv cache")),
        Topic("Evaluation", keywords=("benchmark", "leaderboard"), exclude=("speech",)),
    ])
    moment = START + timedelta(days=1)

    def post(slug: str, title: str, day: int = 1) -> Post:
        return Post(f"https://blog.example.org/{slug}", title, "Blog",
                    START + timedelta(days=day), "")

    posts = [post("a", "Quantization notes", 3),
             post("b", "KV cache quantization with speculative decoding"),
             post("c", "A quantization benchmark and leaderboard"),
             post("d", "A speech benchmark"),
             post("e", "Baking bread")]
    paper = Paper("2611.00001", 1, "Quantization [x](javascript:alert(1))", ("A",), "", (),
                  moment, moment, "https://arxiv.org/abs/2611.00001")
    digest = build_digest(period=WEEK, now=WEEK.end, guides=["g.md"], links_checked=1,
                          posts=posts, papers=[paper], topics=["Inference", "Evaluation"],
                          per_topic=1, relevance=topics)
    inference, evaluation, other = digest.topics
    assert other.topic == "Other" and not other.posts and other.more_posts == 2
    assert {p.url for p in other.further_posts} == {"https://blog.example.org/d",
                                                   "https://blog.example.org/e"}
    # best first: three terms beat one; the rest is counted and kept for the JSON digest
    assert [p.url for p in inference.posts] == ["https://blog.example.org/b"]
    assert inference.posts[0].why == ("quantization", "speculative decoding", "kv cache")
    assert [p.url for p in inference.further_posts] == ["https://blog.example.org/a"]
    assert inference.total_posts == 2 and inference.total_papers == 1
    # c scores 6 on Evaluation and 3 on Inference: listed there, mentioned here
    assert [p.url for p in evaluation.posts] == ["https://blog.example.org/c"]
    assert [(m.url, m.listed_under) for m in inference.mentions] == [
        ("https://blog.example.org/c", "Evaluation")]

    text = render_digest_markdown(digest)
    assert "· why: quantization, speculative decoding, kv cache" in text
    assert "Posts (1 of 2, best first):" in text
    assert "### Other\n\nPosts: 2, listed in the JSON digest (`digest-2026-W48.json`)." in text
    assert "- … and 1 more post in the JSON digest (`digest-2026-W48.json`)" in text
    assert ("Also relevant, listed under another topic: [A quantization benchmark and "
            "leaderboard](https://blog.example.org/c) (under Evaluation)." in text)
    hrefs = [child.attrGet("href") for token in MarkdownIt().parse(text)
             for child in token.children or [] if child.type == "link_open"]
    assert hrefs and all(str(href).startswith("https://") for href in hrefs)  # title escaped
    plain = json.loads(render_digest_json(digest))
    listed = plain["topics"][0]
    assert listed["posts"][0]["score"] == 9.0
    assert [p["url"] for p in listed["further_posts"]] == ["https://blog.example.org/a"]
    assert listed["mentions"][0]["listed_under"] == "Evaluation"


def test_daily_papers_break_ties_and_never_list_a_paper() -> None:
    topics = profiles([Topic("Inference", keywords=("quantization", "pruning"))])
    moment = START + timedelta(days=1)

    def paper(number: int, title: str, day: int) -> Paper:
        when = START + timedelta(days=day)
        return Paper(f"2611.{number:05d}", 1, title, ("A",), "", (), when, when,
                     f"https://arxiv.org/abs/2611.{number:05d}")

    papers = [paper(1, "Quantization one", 3), paper(2, "Quantization two", 1),
              paper(3, "Quantization and pruning", 0), paper(4, "Baking bread", 2)]
    notable = {"2611.00002": 30, "2611.00004": 99}
    digest = build_digest(period=WEEK, now=moment, guides=["g.md"], links_checked=1,
                          papers=papers, topics=["Inference"], per_topic=3,
                          relevance=topics, notable=notable)
    inference = digest.topics[0]
    # relevance first (two terms beat one), then upvotes, then newest
    assert [p.arxiv_id for p in inference.papers] == ["2611.00003", "2611.00002", "2611.00001"]
    assert inference.papers[1].upvotes == 30 and inference.papers[0].upvotes is None
    assert digest.topics[1].topic == "Other" and not digest.topics[1].papers  # 99 votes: no
    text = render_digest_markdown(digest)
    assert "· why: quantization · picked on Hugging Face daily papers, 30 upvotes" in text
