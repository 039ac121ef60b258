"""The digest and check reports from a database filled by the real stages (tests/seeded_week.py).

Golden files: tests/golden/e2e-*; docs/example-digest.md is this week's digest too.
`UPDATE_GOLDEN=1 pytest tests/test_digest_e2e.py` rewrites them all. Server addresses change
every run, so outputs are compared after `SeededWeek.display` names each server by the site
it plays: the digest files as digest_stage wrote them, the check report as a value before
rendering (with its timings, the only wall-clock values left, zeroed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from linkfresh.context import AppContext
from linkfresh.reports.check_formats import (
    render_check_github,
    render_check_junit,
    render_check_markdown,
)
from linkfresh.reports.check_report import render_check_json
from linkfresh.stages.check import check_stage
from linkfresh.stages.digest import DigestFormat, digest_stage
from linkfresh.storage.migrations import open_database
from tests.golden_files import GOLDEN, assert_golden
from tests.postgres_server import PostgresServer
from tests.schemas import valid_document
from tests.seeded_week import (
    CHECKS,
    END,
    EXAMPLE_PATH,
    HOSTILE_PAPER_TITLE,
    HOSTILE_POST_TITLE,
    REVISED_ID,
    SITES,
    START,
    FakeClock,
    SeededWeek,
    example_digest,
    run_seeded_week,
    start_sites,
    write_guide,
    write_week_config,
)
from tests.servers import LocalServer

NewServer = Callable[[], LocalServer]
CHECK_FORMATS = {
    "e2e-check.md": render_check_markdown,
    "e2e-check.github.txt": render_check_github,
    "e2e-check.junit.xml": render_check_junit,
    "e2e-check.json": render_check_json,
}


@pytest.fixture(scope="module")
def week(new_server: NewServer, tmp_path_factory: pytest.TempPathFactory) -> SeededWeek:
    return run_seeded_week(new_server, tmp_path_factory.mktemp("seeded-week"))


def parse(markdown: str) -> list[Token]:
    """Tokens as GitHub would see them: tables, strikethrough, bare-URL linkify, raw HTML."""
    return MarkdownIt("commonmark", {"html": True, "linkify": True}).enable(
        ["table", "strikethrough", "linkify"]).parse(markdown)


def cells_per_row(tokens: list[Token]) -> list[int]:
    counts: list[int] = []
    for token in tokens:
        if token.type == "tr_open":
            counts.append(0)
        elif token.type in ("th_open", "td_open"):
            counts[-1] += 1
    return counts


def test_markdown_golden(week: SeededWeek) -> None:
    assert_golden(GOLDEN / "e2e-digest.md", week.display(week.markdown))


def test_json_golden(week: SeededWeek) -> None:
    assert_golden(GOLDEN / "e2e-digest.json", week.display(week.json))


def test_the_week_on_postgresql_gives_the_same_digest(
    new_server: NewServer, postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every stage (check, collect, digest) and every query the digest makes, on PostgreSQL:
    the same week gives the same bytes as on SQLite."""
    week = run_seeded_week(new_server, tmp_path_factory.mktemp("seeded-week-pg"),
                           database=postgres.new_database())
    assert_golden(GOLDEN / "e2e-digest.md", week.display(week.markdown))
    assert_golden(GOLDEN / "e2e-digest.json", week.display(week.json))


@pytest.mark.parametrize("name", sorted(CHECK_FORMATS))
def test_check_report_golden(week: SeededWeek, name: str) -> None:
    assert_golden(GOLDEN / name, CHECK_FORMATS[name](week.display_report()))


def test_docs_example_is_current(week: SeededWeek) -> None:
    assert_golden(EXAMPLE_PATH, example_digest(week))


def test_no_server_address_or_folder_is_left(week: SeededWeek) -> None:
    texts = [week.display(text) for text in (week.markdown, week.json)]
    texts += [render(week.display_report()) for render in CHECK_FORMATS.values()]
    for text in texts:
        assert "127.0.0." not in text and "127\\.0\\.0\\." not in text
        assert str(week.folder) not in text
    # The digest is renamed after rendering: nothing naming a server may have been cut to
    # length, or where it was cut would depend on the server's real address.
    sites = [site.split("//")[1] for site in SITES.values()]
    cut = [line for line in texts[0].splitlines() if "…" in line]
    assert cut and not [line for line in cut for site in sites
                        if site in line[: line.index("…") + 2]]


def test_same_database_and_period_give_the_same_bytes(week: SeededWeek, tmp_path: Path) -> None:
    engine = open_database(week.app.database_url())
    try:
        again = [digest_stage(week.app, engine, START, END, fmt=fmt,
                              output=tmp_path / f"again.{fmt}").read_bytes()
                 for fmt in (DigestFormat.MARKDOWN, DigestFormat.JSON)]
    finally:
        engine.dispose()
    assert again == [week.markdown.encode(), week.json.encode()]


def test_sections_in_order(week: SeededWeek) -> None:
    tokens = parse(week.markdown)
    headings = [(token.tag, tokens[i + 1].content) for i, token in enumerate(tokens)
                if token.type == "heading_open"]
    assert headings == [
        ("h1", "Link digest 2026-W48"),
        ("h2", "Newly broken (1)"),
        ("h2", "Still broken (1)"),
        ("h2", "Fixed since the last digest (1)"),
        ("h2", "To update (10)"),
        ("h2", "Unverified (1)"),
        ("h2", "New on each topic"),
        ("h3", "Transformer architecture"),
        ("h3", "Pre-training and fine-tuning"),
        ("h3", "Efficient inference"),
        ("h3", "RLHF and alignment"),
        ("h2", "Resources named without a link (3)"),
        ("h2", "Sources that failed (1)"),
    ]


def test_the_week_as_the_stages_recorded_it(week: SeededWeek) -> None:
    digest = valid_document(week.display(week.json), "digest")
    assert digest["headline"] == {
        "links_checked": 10, "broken": 2, "newly_broken": 1, "fixed": 1, "to_update": 10,
        "unverified": 1, "new_papers": 8, "new_posts": 5, "sources_failed": 1}
    newly = digest["newly_broken"][0]
    assert newly["url"] == "http://ruder.io/nlp-in-2017-part-2/"
    assert (newly["status"], newly["since"]) == (404, "2026-11-24T06:00:00Z")
    assert newly["suggestion"] == {
        "kind": "archive", "captured": "2024-05-13",
        "url": "https://web.archive.org/web/20240513091502/http://ruder.io/nlp-in-2017-part-2/"}
    still = digest["still_broken"]["items"][0]
    assert still["url"].endswith("/~jurafsky/slp3/") and still["days"] == 20
    fixed = digest["fixed"]["items"][0]
    assert fixed["url"] == "https://course.fast.ai/"
    assert fixed["broken_since"] == "2026-11-09T14:00:00Z"  # confirmed on the second check
    # The link that moved for good is written wrapped: one update, straight to where it moved.
    moved = [u for u in digest["to_update"]["items"] if "301" in u["via"]]
    assert [(u["kind"], u["new"], u["via"]) for u in moved] == [(
        "wrapper", "https://huggingface.co/docs/transformers/v4.35.2/en/training",
        "google-search, then 301")]
    assert not [u for u in digest["to_update"]["items"] if u["kind"] == "redirect"]
    assert [(u["url"], u["status"]) for u in digest["unverified"]["items"]] == [
        ("https://huggingface.co/models", 403)]
    assert digest["failed_sources"] == [{
        "kind": "feed", "name": "Google AI Blog", "reason": "HTTP 404 (failed 2 times)",
        "url": "https://ai.googleblog.com/feeds/posts/default"}]  # the configured feed URL


def test_a_new_version_is_not_a_second_paper(week: SeededWeek) -> None:
    """v2 arrived on the second collect under another topic: one paper, v2's title, and the
    papers served unchanged on both days are listed once."""
    topics = {topic["topic"]: topic for topic in json.loads(week.json)["topics"]}
    listed = [paper["arxiv_id"] for topic in topics.values() for paper in topic["papers"]]
    assert listed.count(REVISED_ID) == 1  # listed once, under its best topic...
    mentioned = [m["url"] for topic in topics.values() for m in topic["mentions"]]
    assert mentioned == [f"https://arxiv.org/abs/{REVISED_ID}"]  # ...and mentioned once
    revised = [paper["title"] for topic in topics.values() for paper in topic["papers"]
               if paper["arxiv_id"] == REVISED_ID]
    assert set(revised) == {"Speculative Decoding with Tiny Drafts for Fine-Tuned Models"}
    everything = listed + [paper["arxiv_id"] for topic in topics.values()
                           for paper in topic["further_papers"]]
    assert everything.count("2611.01002") == 1
    assert len(everything) == len(set(everything))


def test_hostile_titles_add_no_structure(week: SeededWeek) -> None:
    tokens = parse(week.markdown)
    inline = [child for token in tokens for child in token.children or []]
    assert not [t for t in tokens + inline if t.type.startswith(("html", "image"))]
    hrefs = [str(child.attrs["href"]) for child in inline if child.type == "link_open"]
    assert all(href.startswith(("http://", "https://")) for href in hrefs)
    assert not [href for href in hrefs if "javascript" in href or "evil" in href]
    assert [t.type for t in tokens].count("table_open") == 1
    assert cells_per_row(tokens) == [9, 9]  # the headline table, no pipe split a cell
    text = " ".join(child.content for child in inline if child.type == "text")
    # The feed parser drops the <script> element; everything else arrives as plain text.
    assert ("# Fine-tuning [x](javascript:alert(1)) ![img](http://evil.example/p.png) "
            "| pipe | `rm -rf /` new line") in text
    assert HOSTILE_PAPER_TITLE in text
    assert "<script>" not in week.markdown and HOSTILE_POST_TITLE not in week.markdown


def test_check_stage_dates_results_by_its_clock(new_server: NewServer, tmp_path: Path) -> None:
    clock = FakeClock(CHECKS[0])
    servers = start_sites(new_server, clock)
    write_guide(tmp_path, servers)
    app = AppContext(config_path=write_week_config(tmp_path, servers))
    engine = open_database(app.database_url())
    try:
        report = check_stage(app, engine, clock=clock).report
    finally:
        engine.dispose()
    assert {item.result.checked_at for item in report.items} == {CHECKS[0]}
