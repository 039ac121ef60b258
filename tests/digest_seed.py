"""A realistic seeded week on the bundled guide, as plain values, for the renderer's golden files.

`seeded_week(guide)` returns the `Digest` behind tests/golden/digest.*: every section filled
without a database or a server. docs/example-digest.md comes from the week played through
the real stages instead (tests/seeded_week.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from linkfresh.collector.guide.read import read_guide
from linkfresh.collector.types import Guide, Link, Paper, Post
from linkfresh.reports.digest import build_digest
from linkfresh.reports.digest_model import (
    BrokenLink,
    Digest,
    FailedSource,
    FixedLink,
    GuidePlace,
    LinkUpdate,
    PaperMatch,
    Period,
    Suggestion,
    SuggestionKind,
    UnverifiedLink,
    UpdateKind,
    unlinked_resources,
)

REPO = Path(__file__).resolve().parent.parent
BUNDLED_GUIDE = REPO / "config" / "data" / "llms-learning-guide.md"
GUIDE_NAME = "llms-learning-guide.md"
TOPICS = ("Transformer architecture", "BERT and encoder models", "GPT and decoder-only models",
          "Pre-training and fine-tuning", "Efficient inference", "RLHF and alignment")
HOSTILE_PAPER_TITLE = "Attention Sinks <script>alert(1)</script> | [click](javascript:alert(1))"
HOSTILE_POST_TITLE = "# Breaking: ![x](http://evil.example/p.png) `rm -rf /` **now**\nnew line"


def at(day: int, hour: int = 6) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=UTC)


def bundled_guide() -> Guide:
    return read_guide(BUNDLED_GUIDE, name=GUIDE_NAME)


def _links(guide: Guide, fragment: str) -> list[Link]:
    found = [link for link in guide.links if fragment in link.url]
    assert found, fragment
    return found


def _places(guide: Guide, fragment: str) -> tuple[GuidePlace, ...]:
    return GuidePlace.of(_links(guide, fragment))


def _paper(number: int, title: str, topics: tuple[str, ...], day: int, authors: int = 4) -> Paper:
    arxiv_id = f"2611.{number:05d}"
    names = ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov")
    return Paper(
        arxiv_id=arxiv_id, version=1, title=title, authors=names[:authors], abstract="",
        categories=("cs.CL",), published=at(day, 18), updated=at(day, 18),
        abs_url=f"https://arxiv.org/abs/{arxiv_id}", topics=topics,
    )


def _papers() -> list[Paper]:
    transformer = ("Transformer architecture",)
    return [
        _paper(1001, "Rethinking Positional Encoding for Long Contexts", transformer, 24),
        _paper(1002, "Linear-Time Attention Without Approximation", transformer, 25, 2),
        _paper(1003, HOSTILE_PAPER_TITLE, transformer, 26),
        _paper(1004, "Sparse Mixture-of-Experts Layers Revisited", transformer, 26, 5),
        _paper(1005, "On the Depth of Encoder-Decoder Models", transformer, 27),
        _paper(1006, "Multi-Head Attention Heads Are Not Equal", transformer, 28, 1),
        _paper(1007, "Tokenizer-Free Transformers at Scale", transformer, 29),
        _paper(1008, "A Survey of Parameter-Efficient Fine-Tuning",
               ("Pre-training and fine-tuning", "Efficient inference"), 25),
        _paper(1009, "Speculative Decoding with Tiny Drafts", ("Efficient inference",), 27, 3),
        replace(_paper(1009, "Speculative Decoding with Tiny Drafts (v2)",
                       ("Efficient inference",), 27, 3), version=2),
    ]


def _posts() -> list[Post]:
    return [
        Post("https://huggingface.co/blog/fine-tuning-2026", "Fine-tuning small models in 2026",
             "Hugging Face Blog", at(25, 9), topics=("Pre-training and fine-tuning",)),
        Post("https://jalammar.github.io/illustrated-moe/", "The Illustrated Mixture of Experts",
             "Jay Alammar", at(27, 12), topics=("Transformer architecture",)),
        Post("https://evil.example/post", HOSTILE_POST_TITLE, "Sebastian Ruder", at(28, 8),
             topics=("RLHF and alignment",)),
        Post("https://openai.com/index/reward-models/", "How we train reward models",
             "OpenAI Blog", None, topics=("RLHF and alignment",)),
    ]


def seeded_week(guide: Guide) -> Digest:
    """The week 2026-11-23 to 2026-11-30 on `guide` (the bundled one): every section filled."""
    ruder = "ruder.io/nlp-in-2017-part-2"
    course = "huggingface.co/learn/nlp-course/chapter1/1"
    newly = [
        BrokenLink(
            url=_links(guide, ruder)[0].url, places=_places(guide, ruder), state="broken",
            since=at(26), status=404,
            suggestion=Suggestion(
                SuggestionKind.ARCHIVE,
                "https://web.archive.org/web/20240513091502/http://ruder.io/nlp-in-2017-part-2/",
                date(2024, 5, 13),
            ),
        ),
        BrokenLink(
            url=_links(guide, course)[0].url, places=_places(guide, course), state="broken",
            since=at(27), status=404,
            suggestion=Suggestion(SuggestionKind.REDIRECT,
                                  "https://huggingface.co/learn/llm-course/chapter1/1"),
        ),
    ]
    slp3 = "jurafsky/slp3"
    still = [
        BrokenLink(url=_links(guide, slp3)[0].url, places=_places(guide, slp3), state="timeout",
                   since=at(9), error="timed out after 3 attempts"),
    ]
    fixed = [FixedLink(_links(guide, "course.fast.ai")[0].url, _places(guide, "course.fast.ai"),
                       fixed_at=at(24), broken_since=at(16))]
    updates = [
        LinkUpdate(UpdateKind.WRAPPER, link.written_url, link.target,
                   GuidePlace.of([link]), "+".join(link.unwrapped_by))
        for link in guide.links if link.is_wrapped
    ]
    updates.append(LinkUpdate(
        UpdateKind.REDIRECT, "https://huggingface.co/transformers/v4.35.2/training.html",
        "https://huggingface.co/docs/transformers/v4.35.2/en/training",
        _places(guide, "transformers/v4.35.2"), "301"))
    unverified = [UnverifiedLink(_links(guide, "huggingface.co/models")[0].url,
                                 _places(guide, "huggingface.co/models"),
                                 "rate limited (Retry-After 3600)", 429)]
    unlinked = []
    for resource in unlinked_resources(guide):
        if "BERT paper" in resource.text:
            resource = replace(resource, suggestion=PaperMatch(
                "BERT: Pre-training of Deep Bidirectional Transformers for Language "
                "Understanding", "https://arxiv.org/abs/1810.04805"))
        unlinked.append(resource)
    failed = [FailedSource("feed", "Google AI Blog", "HTTP 404 for the feed URL (moved?)",
                           "https://ai.googleblog.com/feeds/posts/default")]
    return build_digest(
        period=Period(at(23, 0), at(30, 0)), now=at(30, 0), guides=[guide.path],
        links_checked=len({link.url for link in guide.links}),
        newly_broken=newly, still_broken=still, fixed=fixed, to_update=updates,
        unverified=unverified, papers=_papers(), posts=_posts(), topics=TOPICS,
        unlinked=unlinked, failed_sources=failed,
    )
