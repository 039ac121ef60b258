"""Keyword scoring of posts and papers against topics (pure, no server)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkfresh.collector.news.topic_match import (
    compile_topics,
    keyword_pattern,
    match_topics,
    score,
)
from linkfresh.collector.types import Topic

TOPICS = compile_topics([
    Topic("Transformer architecture", keywords=("transformer", "self-attention",
                                                 "positional encoding")),
    Topic("Efficient inference", keywords=("quantization", "pruning", "kv cache")),
    Topic("T5", keywords=("t5", "encoder-decoder")),
    Topic("Empty", keywords=("", "--")),
])


@pytest.mark.parametrize(("keyword", "text", "hit"), [
    ("transformer", "The Transformer, explained", True),
    ("transformer", "Transformers are everywhere", True),
    ("transformer", "transformerless designs", False),
    ("self-attention", "a study of self attention", True),
    ("self-attention", "Self-Attention heads", True),
    ("t5", "fine-tuning T5 on summaries", True),
    ("t5", "at5 is not t5x", False),
    ("kv cache", "compressing the KV-cache", True),
    ("c++", "written in C++ today", True),
])
def test_keyword_pattern(keyword: str, text: str, hit: bool) -> None:
    pattern = keyword_pattern(keyword)
    assert pattern is not None
    assert bool(pattern.search(text)) is hit


def test_title_hit_is_enough_summary_needs_two_keywords() -> None:
    assert match_topics("Quantization at scale", "", TOPICS) == ("Efficient inference",)
    assert match_topics("News", "we tried pruning", TOPICS) == ()
    assert match_topics("News", "pruning and quantization", TOPICS) == ("Efficient inference",)


def test_best_first_then_topic_order() -> None:
    title = "T5 meets quantization"
    summary = "an encoder-decoder with pruning and a transformer and self-attention"
    names = match_topics(title, summary, TOPICS)
    assert names == ("Efficient inference", "T5", "Transformer architecture")
    assert score(title, summary, TOPICS[2]) == 3


def test_unmatched_post_has_no_topics_and_empty_keywords_are_dropped() -> None:
    assert match_topics("A recipe for bread", "flour, water, salt", TOPICS) == ()
    assert TOPICS[3].patterns == ()


@given(st.text(max_size=200), st.text(max_size=200))
def test_never_raises_and_only_known_names(title: str, summary: str) -> None:
    names = match_topics(title, summary, TOPICS)
    assert set(names) <= {topic.name for topic in TOPICS}
    assert len(names) == len(set(names))
