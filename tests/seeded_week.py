# ruff: noqa: E501  (the guide keeps its real, long markdown lines)
"""A seeded week run through the real stages: check, collect and digest, on a fake clock,
against local servers standing in for the guide's sites, arXiv, blogs and the Web Archive.

`run_seeded_week(new_server, folder)` plays two weeks of history (2026-11-09 to 11-29) and
returns the digest files and the last check's report. Each server plays one site: `display`
rewrites its `127.0.0.x:port` to the site's name (`https://huggingface.co`) and the temporary
folder to nothing, so outputs are byte-stable and read like a real digest. Nothing else is
rewritten. `python -m tests.seeded_week` writes docs/example-digest.md from this week.
"""

from __future__ import annotations

import itertools
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs

from sqlalchemy import Engine

from linkfresh.context import AppContext
from linkfresh.reports.check_model import CheckReport
from linkfresh.reports.escape import escape_text
from linkfresh.stages import check as pipeline
from linkfresh.stages.collect import collect_stage
from linkfresh.stages.digest import DigestFormat, digest_stage
from linkfresh.storage.migrations import open_database
from tests.arxiv_atom import ATOM_TYPE, Entry, feed_xml, query_params
from tests.configs import write_config
from tests.feed_samples import RSS_TYPE, rss
from tests.servers import LocalServer, Reply, Request, html_page

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_PATH = REPO / "docs" / "example-digest.md"
GUIDE_NAME = "llms-learning-guide.md"
START = datetime(2026, 11, 23, tzinfo=UTC)  # Monday of ISO week 2026-W48
END = START + timedelta(days=7)
HOSTILE_POST_TITLE = ("# Fine-tuning <script>alert(1)</script> [x](javascript:alert(1)) "
                      "![img](http://evil.example/p.png) | pipe | `rm -rf /`\nnew line")
HOSTILE_PAPER_TITLE = "Attention Sinks <b>bold</b> | [click](javascript:alert(1))"
# The arXiv paper whose second version (retitled) arrives on the second collect.
REVISED_ID = "2611.01009"

# Each site a server plays, as the guide writes it (scheme included).
SITES = {
    "book": "https://www.deeplearningbook.org",
    "fastai": "https://course.fast.ai",
    "stanford": "https://web.stanford.edu",
    "hf": "https://huggingface.co",
    "arxiv": "https://arxiv.org",
    "jalammar": "http://jalammar.github.io",
    "ruder": "http://ruder.io",
    "arxiv_api": "https://export.arxiv.org",
    "googleblog": "https://ai.googleblog.com",
    "archive": "https://archive.org",
}


def at(day: int, hour: int = 6) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


# The check runs, on the fake clock: two before the week confirm fast.ai and SLP3 broken
# (twice, 8 hours apart); the week opens with everything else fine; on the 24th ruder.io
# starts answering 404 (confirmed in the afternoon), fast.ai is back, Hugging Face's training
# page moves (301) and its model hub puts up a bot wall; a full check on the 29th.
CHECKS = (at(9), at(9, 14), at(23), at(24), at(24, 14), at(29))
COLLECTS = (at(24, 7), at(27, 7))

GUIDE = """\
---
title: "LLMs Learning Guide"
excerpt: "step-by-step plan to learn about Large Language Models (LLMs)."
---

A small copy of the bundled guide's structure, for the seeded week of the tests.

## **Phase 1: Foundations - Revisiting and Expanding Core Concepts**

1.  **Review Core Machine Learning and Deep Learning Concepts:**

      * **Resources:**
          * **Book:** "Deep Learning" by Ian Goodfellow, Yoshua Bengio, and Aaron Courville ([{book}/]({g}{book}/)) - Focus on relevant chapters.
          * **Course:**  Fast.ai's "Practical Deep Learning for Coders" ([{fastai}/]({g}{fastai}/)) - Hands-on approach.

2.  **Introduction to Natural Language Processing (NLP):**

      * **Resources:**
          * **Course:** Stanford NLP course on Coursera by Christopher Manning and Dan Jurafsky (if available).
          * **Book:** "Speech and Language Processing" by Jurafsky and Martin ([{stanford}/\\~jurafsky/slp3/]({g}{stanford}/~jurafsky/slp3/)) - Introductory chapters.
          * **Tutorial:**  "NLP Getting Started" on Hugging Face ([{hf}/learn/nlp-course/chapter1/1]({g}{hf}/learn/nlp-course/chapter1/1)) - Practical introduction.

3.  **Understanding the Transformer Architecture:**

      * **Resources:**
          * **Paper:** "Attention is All You Need" - Original Transformer paper ([{arxiv}/abs/1706.03762]({g}{arxiv}/abs/1706.03762)) - Read the core sections.
          * **Blog Post:** "The Illustrated Transformer" by Jay Alammar ([{jalammar}/illustrated-transformer/]({g}{jalammar}/illustrated-transformer/)) - Visual explanation.
          * **Video:** "Transformers explained visually" by StatQuest with Josh Starmer (Search on YouTube for "StatQuest Transformers").

## **Phase 2: Diving into Large Language Models**

4.  **Explore Key LLM Architectures:**

      * **Resources:**
          * **Papers:** Read the original papers for each model (search on arXiv using model names like "BERT paper", "GPT-3 paper", "T5 paper").
          * **Hugging Face Model Hub:** ([{hf}/models]({g}{hf}/models)) - Explore different LLM models.

5.  **Pre-training and Fine-tuning of LLMs:**

      * **Resources:**
          * **Blog Post:** "Pre-training and Fine-tuning Language Models" by Sebastian Ruder ([{ruder}/nlp-in-2017-part-2/]({s}{ruder}/nlp-in-2017-part-2/)) - A good overview.
          * **Tutorials:** Hugging Face Transformers documentation on fine-tuning ([{hf}/transformers/v4.35.2/training.html]({s}{hf}/transformers/v4.35.2/training.html)).

7.  **Hands-on Projects and Experimentation:**

      * **Tools and Platforms:**
          * **Hugging Face Transformers:** ([{hf}/transformers/]({g}{hf}/transformers/)) - Library for using pre-trained models.
"""
GOOGLE_URL = "https://www.google.com/url?sa=E&source=gmail&q="
GOOGLE_SEARCH = "https://www.google.com/search?q="

TOPICS = (
    ("Transformer architecture", 'cat:cs.CL AND (ti:transformer OR ti:"self-attention")',
     ["transformer", "self-attention", "attention", "attention mechanism", "multi-head attention",
      "positional encoding"]),
    ("Pre-training and fine-tuning", 'cat:cs.CL AND (ti:"pre-training" OR ti:"fine-tuning")',
     ["pre-training", "fine-tuning", "finetuning", "instruction tuning", "lora"]),
    ("Efficient inference", 'cat:cs.CL AND (ti:quantization OR ti:"speculative decoding")',
     ["quantization", "speculative decoding", "efficient inference", "kv cache"]),
    ("RLHF and alignment", 'cat:cs.CL AND (ti:RLHF OR ti:"preference optimization")',
     ["rlhf", "alignment", "reward model", "preference optimization"]),
)
FEEDS = (("Jay Alammar", "jalammar", "/feed.xml"),
         ("Hugging Face Blog", "hf", "/blog/feed.xml"),
         ("Google AI Blog", "googleblog", "/feeds/posts/default"))
BERT_TITLE = "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding"


class FakeClock:
    """The one clock of the seeded week: the stages, the checker and the servers read it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class SeededWeek:
    """What the week left behind: the database, the digest files and the last check."""

    app: AppContext
    folder: Path
    servers: dict[str, LocalServer]
    markdown: str
    json: str
    report: CheckReport

    def display(self, text: str) -> str:
        """`text` with each server shown as the site it plays and the folder dropped."""
        return display(text, self.servers, self.folder)

    def display_report(self) -> CheckReport:
        """The last check's report with every string shown as `display` shows it, and timings
        zeroed (the one measurement the fake clock does not set). Mapped before rendering,
        so whatever a renderer cuts to length is cut the same way every run."""
        report = map_strings(self.report, self.display)
        items = tuple(replace(item, result=replace(item.result, elapsed_ms=0))
                      for item in report.items)
        return replace(report, items=items)


def display(text: str, servers: dict[str, LocalServer], folder: Path) -> str:
    """Rewrite server addresses (raw, and as `escape_text` writes them) to site names."""
    pairs: list[tuple[str, str]] = [(f"{folder}/", "")]
    for name, server in servers.items():
        site = SITES[name]
        pairs += [(server.url("").rstrip("/"), site), (server.origin, site.split("//")[1])]
    pairs += [(escape_text(old), escape_text(new)) for old, new in pairs if old]
    for old, new in sorted(pairs, key=lambda pair: -len(pair[0])):
        text = text.replace(old, new)
    return text


T = TypeVar("T")


def map_strings(value: T, change: Callable[[str], str]) -> T:
    """`value` with `change` applied to every string inside its dataclasses and tuples."""
    if isinstance(value, Enum):  # a StrEnum is a str, but stays what it is
        return value
    if isinstance(value, str):
        return change(value)  # type: ignore[return-value]
    if isinstance(value, tuple):
        return tuple(map_strings(item, change) for item in value)  # type: ignore[return-value]
    if is_dataclass(value) and not isinstance(value, type):
        changed = {field.name: map_strings(getattr(value, field.name), change)
                   for field in fields(value) if field.init}
        return replace(value, **changed)  # type: ignore[return-value]
    return value


# --- the sites -------------------------------------------------------------------------------

def _until(clock: FakeClock, moment: datetime, before: Reply, after: Reply
           ) -> Callable[[Request], Reply]:
    """A route that answers `before` until `moment` on the fake clock, then `after`."""
    return lambda _request: before if clock.now < moment else after


def _route_links(servers: dict[str, LocalServer], clock: FakeClock) -> None:
    down = Reply(503, {"Content-Type": "text/html"}, "<title>Service Unavailable</title>")
    gone = Reply(404, {"Content-Type": "text/html"}, "<title>404 Not Found</title>")
    wall = Reply(403, {"Content-Type": "text/html", "cf-mitigated": "challenge"},
                 "<title>Just a moment...</title>")
    training = servers["hf"].url("/docs/transformers/v4.35.2/en/training")
    moved = Reply(301, {"Location": training})
    servers["book"].route("/", html_page("Deep Learning"))
    servers["fastai"].route("/", _until(clock, at(24), down, html_page("Practical Deep Learning")))
    servers["stanford"].route("/~jurafsky/slp3/", gone)
    servers["hf"].route("/learn/nlp-course/chapter1/1", html_page("Introduction - NLP Course"))
    servers["hf"].route("/models", _until(clock, at(24), html_page("Models"), wall))
    servers["hf"].route("/transformers/v4.35.2/training.html",
                        _until(clock, at(24), html_page("Fine-tuning"), moved))
    servers["hf"].route("/docs/transformers/v4.35.2/en/training", html_page("Fine-tune"))
    servers["hf"].route("/transformers/", html_page("Transformers"))
    servers["arxiv"].route("/abs/1706.03762", html_page("Attention Is All You Need"))
    servers["jalammar"].route("/illustrated-transformer/", html_page("The Illustrated Transformer"))
    servers["ruder"].route("/nlp-in-2017-part-2/",
                           _until(clock, at(24), html_page("Transfer learning"), gone))


def _paper(number: int, title: str, published: datetime, authors: int = 2,
           version: int = 1) -> Entry:
    names = ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov")
    return Entry(f"2611.{number:05d}v{version}", published, title=title, authors=names[:authors],
                 updated=published + timedelta(days=version - 1))


def _arxiv_entries(clock: FakeClock) -> dict[str, list[Entry]]:
    """What arXiv answers per query; the second collect sees more, and a paper's v2."""
    transformer, pretraining, inference, alignment = (query for _, query, _ in TOPICS)
    speculative = _paper(1009, "Speculative Decoding with Tiny Drafts", at(23, 18), 3)
    entries = {
        transformer: [_paper(1001, "Rethinking Positional Encoding for Long Contexts",
                             at(22, 18), 4),
                      _paper(1002, "Linear-Time Attention Without Approximation", at(23, 18))],
        pretraining: [_paper(1008, "A Survey of Parameter-Efficient Fine-Tuning", at(21, 18), 5)],
        inference: [speculative],
        alignment: [],
    }
    if clock.now >= COLLECTS[1]:
        entries[transformer] += [
            _paper(1005, "Multi-Head Attention Heads Are Not Equal", at(25, 18), 1),
            _paper(1006, HOSTILE_PAPER_TITLE, at(26, 18), 3)]
        entries[pretraining] += [
            _paper(1010, "Instruction Tuning with Synthetic Dialogues", at(26, 18), 2),
            # v2 renames the paper, so the fine-tuning query now finds it too.
            replace(_paper(1009, "Speculative Decoding with Tiny Drafts for Fine-Tuned Models",
                           at(23, 18), 3, version=2), comment="v2: fine-tuned drafts")]
        entries[alignment] += [
            _paper(1011, "Direct Preference Optimization at Scale", at(25, 18), 4)]
    entries['ti:"BERT Pre-training of Deep Bidirectional Transformers for Language '
            'Understanding"'] = [Entry("1810.04805v2", datetime(2018, 10, 11, tzinfo=UTC),
                                       title=BERT_TITLE, authors=("Jacob Devlin",))]
    return entries


def _arxiv_api(clock: FakeClock) -> Callable[[Request], Reply]:
    """The arXiv API: each query's entries, newest first, paged, in arXiv's Atom format."""

    def handle(request: Request) -> Reply:
        params = query_params(request)
        query = params.get("search_query", "")
        entries = sorted(_arxiv_entries(clock).get(query, []), key=lambda e: e.published,
                         reverse=True)
        start, size = int(params.get("start", 0)), int(params.get("max_results", 10))
        xml = feed_xml(entries[start : start + size], len(entries), start, query)
        # arxiv_atom wraps every title onto a second line; keep ours as written.
        xml = xml.replace(":\n  a line-wrapped title</title>", "</title>")
        return Reply(200, {"Content-Type": ATOM_TYPE}, xml)

    return handle


def _feed(clock: FakeClock, name: str) -> Callable[[Request], Reply]:
    first = {
        "Jay Alammar": [("https://jalammar.github.io/illustrated-moe/",
                         "The Illustrated Mixture-of-Experts Transformer", at(22, 12),
                         "A visual guide to sparse expert layers.")],
        "Hugging Face Blog": [("https://huggingface.co/blog/lora-recipes",
                               "LoRA fine-tuning recipes for small models", at(23, 9),
                               "What worked for us.")],
    }
    later = {
        "Jay Alammar": [],
        "Hugging Face Blog": [
            ("https://huggingface.co/blog/assisted-generation-2", "Faster assisted generation "
             "with speculative decoding", at(25, 10), "Draft models, revisited."),
            ("https://huggingface.co/blog/hostile", HOSTILE_POST_TITLE, at(26, 8),
             "A title written to break the digest."),
            ("https://huggingface.co/blog/rlhf-reward-models", "How we train reward models "
             "for RLHF", at(26, 15), "Notes from our alignment team.")],
    }

    def handle(_request: Request) -> Reply:
        items = first[name] + (later[name] if clock.now >= COLLECTS[1] else [])
        return Reply(200, {"Content-Type": RSS_TYPE}, rss(items, title=name))

    return handle


def _daily_papers(request: Request) -> Reply:
    """Hugging Face's daily papers: on 24 November the community picked 2611.01001, which
    ties on relevance with the week's other attention papers and so is listed first."""
    picks = {"2026-11-24": [{"paper": {"id": "2611.01001", "upvotes": 12}},
                            {"paper": {"id": "2611.09999", "upvotes": 40}}]}
    day = parse_qs(request.query).get("date", [""])[0]
    return Reply(200, {"Content-Type": "application/json"}, json.dumps(picks.get(day, [])))


def _availability(request: Request) -> Reply:
    """The Wayback availability API: a copy of every page asked about, from May 2024."""
    params = parse_qs(request.query)
    url = params["url"][0]
    closest = {"status": "200", "available": True, "timestamp": "20240513091502",
               "url": f"http://web.archive.org/web/20240513091502/{url}"}
    body = {"url": url, "archived_snapshots": {"closest": closest}}
    return Reply(200, {"Content-Type": "application/json"}, json.dumps(body))


def start_sites(new_server: Callable[[], LocalServer], clock: FakeClock
                ) -> dict[str, LocalServer]:
    """One server per site, with the week's routes."""
    servers = {name: new_server() for name in SITES}
    _route_links(servers, clock)
    servers["arxiv_api"].route("/api/query", _arxiv_api(clock))
    for name, site, path in FEEDS:
        if site == "googleblog":  # moved away: the feed URL answers 404
            servers[site].route(path, Reply(404, {"Content-Type": "text/html"}, "Not Found"))
        else:
            servers[site].route(path, _feed(clock, name))
    servers["archive"].route("/wayback/available", _availability)
    servers["hf"].route("/api/daily_papers", _daily_papers)
    return servers


# --- the guide and the configuration --------------------------------------------------------

def write_guide(folder: Path, servers: dict[str, LocalServer]) -> Path:
    bases = {name: server.url("").rstrip("/") for name, server in servers.items()}
    path = folder / GUIDE_NAME
    path.write_text(GUIDE.format(g=GOOGLE_URL, s=GOOGLE_SEARCH, **bases), encoding="utf-8")
    return path


def write_week_config(folder: Path, servers: dict[str, LocalServer],
                      database: str | None = None) -> Path:
    """Short timeouts and no pauses (the week runs in seconds); every URL a local server."""
    topics = [{"name": name, "arxiv_query": query, "keywords": keywords}
              for name, query, keywords in TOPICS]
    feeds = [{"name": name, "url": servers[site].url(path), "kind": "feed"}
             for name, site, path in FEEDS]
    digest = {"per_topic": 3, "archive_url": servers["archive"].url("/wayback/available"),
              "daily_papers_url": servers["hf"].url("/api/daily_papers")}
    return write_config(folder, guides=[GUIDE_NAME],
                        database=database or f"sqlite:///{folder / 'linkfresh.db'}",
                        reports_dir=folder / "reports",
                        arxiv={"base_url": servers["arxiv_api"].url("/api/query")},
                        tables={"digest": digest}, topics=topics, feeds=feeds)


# --- the week --------------------------------------------------------------------------------

def run_seeded_week(new_server: Callable[[], LocalServer], folder: Path,
                    database: str | None = None) -> SeededWeek:
    """Play the week through the real stages and write its digest, markdown and JSON (into
    `database`, a SQLite file in `folder` by default)."""
    clock = FakeClock(CHECKS[0])
    servers = start_sites(new_server, clock)
    write_guide(folder, servers)
    app = AppContext(config_path=write_week_config(folder, servers, database))
    engine = open_database(app.database_url())
    report: CheckReport | None = None
    try:
        for moment in sorted(CHECKS + COLLECTS):
            clock.now = moment
            if moment in COLLECTS:
                collect_stage(app, engine, moment)
            else:
                report = check_stage_report(app, engine, clock, full=moment == CHECKS[-1])
        texts = [digest_stage(app, engine, START, END, fmt=fmt).read_text("utf-8")
                 for fmt in (DigestFormat.MARKDOWN, DigestFormat.JSON)]
    finally:
        engine.dispose()
    assert report is not None
    return SeededWeek(app, folder, servers, texts[0], texts[1], report)


def check_stage_report(app: AppContext, engine: Engine, clock: FakeClock, *, full: bool
                       ) -> CheckReport:
    return pipeline.check_stage(app, engine, full=full, clock=clock).report


# --- the docs example ------------------------------------------------------------------------

EXAMPLE_NOTE = (
    "<!-- Generated by `python -m tests.seeded_week` (tests/seeded_week.py): a seeded week run "
    "through the real check, collect and digest stages against the test suite's local "
    "servers, each shown as the site it stands in for. Do not edit by hand. -->\n\n"
)


def example_digest(week: SeededWeek) -> str:
    """docs/example-digest.md: the seeded week's markdown digest, sites named."""
    return EXAMPLE_NOTE + week.display(week.markdown)


def main(argv: list[str]) -> int:
    """Run the week with servers of our own and write the docs example."""
    target = Path(argv[0]) if argv else EXAMPLE_PATH
    addresses = (f"127.0.0.{n}" for n in itertools.count(2))
    started: list[LocalServer] = []

    def new_server() -> LocalServer:
        started.append(LocalServer(next(addresses)).start())
        return started[-1]

    try:
        with tempfile.TemporaryDirectory() as folder:
            week = run_seeded_week(new_server, Path(folder))
            target.write_text(example_digest(week), encoding="utf-8")
    finally:
        for server in started:
            server.stop()
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
