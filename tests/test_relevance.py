"""Relevance of papers and posts to topics: terms, stemming, weights, exclusions (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkfresh.collector.news.relevance import (
    DEFAULT_THRESHOLD,
    SHORT_SUMMARY,
    TITLE_WEIGHT,
    mask,
    profiles,
    relevances,
    topic_names,
)
from linkfresh.collector.news.terms import count, make_term, stem, words
from linkfresh.collector.types import Topic

TOPICS = profiles([
    Topic("Architecture", keywords=("transformer", "self-attention", "positional encoding")),
    Topic("Encoders", keywords=("encoder-only",), names=("BERT", "RoBERTa")),
    Topic("Decoders", keywords=("decoder-only",), names=("Llama", "Gemma")),
    Topic("Tuning", keywords=("fine-tuning", "fine-tune", "LoRA"), exclude=("diffusion",)),
    Topic("Alignment", keywords=("DPO", "preference optimization", "alignment")),
    Topic("Evaluation", keywords=("benchmark", "evaluation"), exclude=("speech",),
          threshold=5.0),
    Topic("Empty", keywords=("", "--")),
])


@pytest.mark.parametrize(("word", "stemmed"), [
    ("benchmarks", "benchmark"), ("benchmarking", "benchmark"), ("benchmarked", "benchmark"),
    ("prompting", "prompt"), ("embeddings", "embed"), ("studies", "study"),
    ("biases", "bias"), ("bias", "bias"), ("caches", "cach"), ("cache", "cach"),
    ("tuning", "tun"), ("tune", "tun"), ("running", "run"),
    # derivations stay apart: that is the point of a light stemmer
    ("transformer", "transformer"), ("transformation", "transformation"),
    ("encoder", "encoder"), ("encoding", "encod"), ("gpt", "gpt"), ("t5", "t5"),
])
def test_light_stemmer(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


@pytest.mark.parametrize(("keyword", "text", "times"), [
    ("transformer", "The Transformers, explained", 1),
    ("transformer", "A Transformation of text", 0),
    ("self-attention", "self attention and Self-Attention", 2),
    ("BERT", "Introducing ModernBERT and mmBERT", 2),
    ("BERT", "Hubert and Robert", 0),
    ("Gemma", "CodeGemma, PaliGemma", 2),
    ("SmolLM", "SmolLM3: a small model", 1),
    ("Qwen", "fine-tuned Qwen2.5-7B", 1),
    ("T5", "Flan-T5 and mT5 and T5", 2),
    ("kv cache", "compressing the KV-caches", 1),
    ("encoder", "encoding schemes", 0),
])
def test_term_counts(keyword: str, text: str, times: int) -> None:
    term = make_term(keyword)
    assert term is not None
    assert count(term, words(text)) == times


def test_software_names_are_not_topics() -> None:
    assert "ransformer" not in mask("Fine-Tune ViT with 🤗 Transformers").lower()
    assert mask("Transformers.js v3 is out").strip().startswith("v3")
    assert topic_names("Total intro to Hugging Face Transformers", "", TOPICS) == ()
    assert topic_names("Running models with llama.cpp", "", TOPICS) == ()
    assert topic_names("Transformer-based encoders", "", TOPICS) == ("Architecture",)


def test_a_title_term_is_enough_without_an_abstract_but_not_with_one() -> None:
    assert topic_names("Quick LoRA tricks", "", TOPICS) == ("Tuning",)
    assert topic_names("Quick LoRA tricks", "What worked for us.", TOPICS) == ("Tuning",)
    # with an abstract to read, a lone title term needs another term from it
    abstract = "We report what happened when we baked bread for a week. " * 5
    assert topic_names("Quick LoRA tricks", abstract, TOPICS) == ()
    assert topic_names("Quick LoRA tricks", abstract + "We fine-tune.", TOPICS) == ("Tuning",)
    assert topic_names("Quick LoRA tricks", abstract + "LoRA again.", TOPICS) == ()
    assert DEFAULT_THRESHOLD > TITLE_WEIGHT
    assert len(words(abstract).stems) >= SHORT_SUMMARY


def test_summary_only_items_are_capped_below_threshold() -> None:
    summary = "transformer self-attention positional encoding " * 10
    assert topic_names("A study", summary, TOPICS) == ()


def test_model_names_count_in_titles_only_and_lose_ties() -> None:
    assert topic_names("Welcome Gemma", "", TOPICS) == ("Decoders",)
    assert topic_names("A study", "We test Llama, Gemma and BERT.", TOPICS) == ()
    found = relevances("Fine-tune Llama 2 with DPO", "", TOPICS)
    # a tie: keywords beat names only, then the later (narrower) guide step wins
    assert [r.topic for r in found] == ["Alignment", "Tuning", "Decoders"]
    assert found[-1].by_name and not found[0].by_name


def test_exclusion_in_title_rules_a_topic_out() -> None:
    assert topic_names("Fine-tuning diffusion models", "", TOPICS) == ()
    assert topic_names("Fine-tuning language models", "", TOPICS) == ("Tuning",)


def test_per_topic_threshold() -> None:
    assert topic_names("A new benchmark", "", TOPICS) == ("Evaluation",)  # titles only
    summary = "we report an evaluation " + "and more words " * 20
    assert topic_names("A new benchmark", summary, TOPICS) == ()  # 3 + 1 < 5
    assert topic_names("Benchmark and evaluation", summary, TOPICS) == ("Evaluation",)
    assert topic_names("A speech benchmark", "", TOPICS) == ()


def test_matched_terms_explain_the_score_and_phrases_win_over_their_parts() -> None:
    [found] = relevances("Direct preference optimization", "alignment, alignment", TOPICS)
    assert found.topic == "Alignment"
    assert found.matched == ("preference optimization", "alignment")
    assert found.score == pytest.approx(TITLE_WEIGHT + 4 / 3, abs=1e-3)


def test_synonyms_of_one_stem_count_once() -> None:
    [found] = relevances("Fine-tune and fine-tuning", "", TOPICS)
    assert found.matched == ("fine-tuning",)


@given(st.text(max_size=300), st.text(max_size=300))
def test_never_raises_and_names_only_known_topics(title: str, summary: str) -> None:
    found = relevances(title, summary, TOPICS)
    names = [r.topic for r in found]
    assert set(names) <= {topic.name for topic in TOPICS} - {"Empty"}
    assert len(names) == len(set(names))
    assert [r.score for r in found] == sorted((r.score for r in found), reverse=True)
