"""The bundled topics' arXiv queries mean what they say under arXiv's stemming and phrase
rules (emulated in bench/arxiv_search.py): no false friends the old queries let through."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkfresh.collector.guide.topic_seeds import arxiv_query_for
from linkfresh.config.bundled import bundled_topics

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from arxiv_search import Record, compile_query

QUERIES = {topic.name: topic.arxiv_query for topic in bundled_topics()}
ABSTRACT = "We study large language models."


def hits(topic: str, title: str, abstract: str = ABSTRACT) -> bool:
    return compile_query(QUERIES[topic])(Record(title, abstract, ("cs.CL",)))


def test_the_emulator_reads_phrases_as_their_words_in_any_order() -> None:
    old_t5 = compile_query('cat:cs.CL AND (ti:T5 OR ti:"encoder-decoder" OR ti:"text-to-text")')
    assert old_t5(Record("Text-to-SQL with Small Models", ABSTRACT, ("cs.CL",)))
    old = compile_query('cat:cs.CL AND ti:"causal language model"')
    assert old(Record("Causal Evidence for Language Models", ABSTRACT, ("cs.CL",)))
    assert not old(Record("Causal Evidence", ABSTRACT, ("cs.LG",)))


@pytest.mark.parametrize(("topic", "title"), [
    ("Transformer architecture", "Transformation of Legal Texts"),
    ("BERT and encoder models", "Encoding Only What Matters in Speech"),
    ("GPT and decoder-only models", "Causal Evidence of Language Model Reasoning"),
    ("GPT and decoder-only models", "Speculative Decoding at Scale"),
    ("T5 and encoder-decoder models", "Text-to-SQL with Progressive Rewards"),
    ("T5 and encoder-decoder models", "Text-to-Speech for Low-Resource Languages"),
    ("Bias and fairness", "Positional Bias in Long-Context Retrieval"),
    ("Prompt engineering", "Context Compression for Agents"),
    ("RLHF and alignment", "Word Alignment for Low-Resource Translation"),
    ("Conversational AI", "Faster Assisted Generation"),
])
def test_false_friends_stay_out(topic: str, title: str) -> None:
    assert not hits(topic, title)


@pytest.mark.parametrize(("topic", "title"), [
    ("Transformer architecture", "Dynamic Linear Attention"),
    ("BERT and encoder models", "ModernBERT for Retrieval"),
    ("GPT and decoder-only models", "Decoder-Only Models Revisited"),
    ("T5 and encoder-decoder models", "Scaling mT5 to More Languages"),
    ("Pre-training and fine-tuning", "Which LoRA? Multilingual Instruction Tuning"),
    ("Efficient inference", "KV Cache Compression at Scale"),
    ("Bias and fairness", "Gender Bias in Generated Stories"),
    ("RLHF and alignment", "Direct Preference Optimization for Chatbots"),
    ("Retrieval and semantic search", "Uncertainty-Aware Hybrid Retrieval for RAG"),
])
def test_the_topic_still_finds_its_papers(topic: str, title: str) -> None:
    assert hits(topic, title, "Large language model experiments.")


@pytest.mark.parametrize(("keywords", "query"), [
    (("positional encoding",), "(ti:positional AND ti:encoding)"),
    (("text-to-text", "t5"), "ti:t5"),
    (("self-attention", "rlhf"), "(ti:self AND ti:attention) OR ti:rlhf"),
    (("the", "c++", "Q&A"), ""),
    ((), ""),
])
def test_init_queries_say_what_arxiv_will_do(keywords: tuple[str, ...], query: str) -> None:
    assert arxiv_query_for(keywords) == query


@given(st.lists(st.text(max_size=40), max_size=8))
def test_init_queries_are_well_formed_for_any_bullets(keywords: list[str]) -> None:
    query = arxiv_query_for(keywords)
    assert '"' not in query and query.count("(") == query.count(")")
    if query:
        match = compile_query(query)  # parses; every part is ti:<word> ANDed or ORed
        assert isinstance(match(Record("x", "y", ("cs.CL",))), bool)
        assert all(part.startswith("ti:") for part in query.replace("(", "").split()
                   if part not in ("AND", "OR"))
