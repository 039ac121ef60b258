"""How relevant a paper or post is to each topic (pure).

A field-weighted score over stemmed terms and phrases: each of the topic's keywords and model
names found in the title earns `TITLE_WEIGHT`; keywords found only in the summary earn up to
`SUMMARY_WEIGHT` each (a little more when repeated), `SUMMARY_CAP` in all. Model names count
in the title only (an abstract's list of evaluated models says nothing about its topic). An
exclusion in the title rules the topic out; one in the summary costs `SUMMARY_WEIGHT`. Names
of software that contain a topic word ("🤗 Transformers", "llama.cpp") are masked first.
Weights and thresholds were chosen on the labelled set in bench/ (see bench/curation.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from linkfresh.collector.news.terms import Term, Words, count, make_term, words
from linkfresh.collector.types import Topic

TITLE_WEIGHT = 3.0
SUMMARY_WEIGHT = 1.0
SUMMARY_CAP = 3.0
# With these weights an item needs a title term backed by its summary, or two title terms.
# An item with no summary, or a blurb shorter than `SHORT_SUMMARY` words (many feeds give
# titles only), cannot be expected to back its title up: it is held to `TITLE_WEIGHT`.
DEFAULT_THRESHOLD = 3.5
SHORT_SUMMARY = 40

# Software whose name contains a topic word; masked before matching.
SOFTWARE_NAMES = tuple(re.compile(pattern, re.IGNORECASE) for pattern in (
    r"(?:🤗|hugging\s*face)\s*transformers",
    r"transformers\.js",
    r"transformers\s+(?:library|agents?|backend|code\s+agent|v\d[\w.]*)",
    r"(?:swift|sentence)[\s-]+transformers",
    r"(?:in|with|use|using|and|&|❤️)\s+transformers\b",
    r"llama\.cpp", r"llama[\s-]*index", r"\bollama\b",
))


@dataclass(frozen=True, slots=True)
class Profile:
    """A topic ready for scoring."""

    name: str
    terms: tuple[Term, ...]
    names: tuple[Term, ...]
    exclude: tuple[Term, ...]
    threshold: float


@dataclass(frozen=True, slots=True)
class Relevance:
    """An item's score for one topic and the terms that earned it, title terms first.

    `by_name` is true when only model names matched: such a topic loses ties to one
    matched by what the item is about ("Fine-tune Llama 2 with DPO" is about DPO).
    """

    topic: str
    score: float
    matched: tuple[str, ...]
    by_name: bool = False


def _distinct(keywords: Iterable[str]) -> tuple[Term, ...]:
    """One term per stem sequence: "fine-tune" and "fine-tuning" count once."""
    seen: dict[tuple[str, ...], Term] = {}
    for keyword in keywords:
        term = make_term(keyword)
        if term is not None:
            seen.setdefault(term.stems, term)
    return tuple(seen.values())


def profile(topic: Topic) -> Profile:
    """`topic` compiled for scoring."""
    threshold = DEFAULT_THRESHOLD if topic.threshold is None else topic.threshold
    return Profile(topic.name, _distinct(topic.keywords), _distinct(topic.names),
                   _distinct(topic.exclude), threshold)


def profiles(topics: Iterable[Topic]) -> tuple[Profile, ...]:
    return tuple(profile(topic) for topic in topics)


def mask(text: str) -> str:
    """`text` with software names blanked out."""
    for pattern in SOFTWARE_NAMES:
        text = pattern.sub(" ", text)
    return text


def _saturated(times: int) -> float:
    return 2.0 * times / (times + 1.0)  # 1 -> 1.0, 2 -> 1.33, 3 -> 1.5


def _inside(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    return any(long[i:i + len(short)] == short for i in range(len(long) - len(short) + 1))


def _matched(terms: Sequence[Term], text: Words) -> list[Term]:
    """Terms found in `text`, less those found only as part of a longer found term."""
    found = [term for term in terms if count(term, text)]
    return [term for term in found if not any(
        len(other.stems) > len(term.stems) and _inside(term.stems, other.stems)
        for other in found)]


def score(title: Words, summary: Words, topic: Profile) -> Relevance:
    """`topic`'s score for an item whose words are `title` and `summary`."""
    if any(count(term, title) for term in topic.exclude):
        return Relevance(topic.name, 0.0, ())
    in_title = _matched(topic.terms + topic.names, title)
    in_summary = [term for term in _matched(topic.terms, summary) if term not in in_title]
    from_summary = sum(SUMMARY_WEIGHT * _saturated(count(term, summary)) for term in in_summary)
    from_summary -= sum(SUMMARY_WEIGHT for term in topic.exclude if count(term, summary))
    total = TITLE_WEIGHT * len(in_title) + min(from_summary, SUMMARY_CAP)
    by_name = bool(in_title) and not in_summary and all(t in topic.names for t in in_title)
    matched = tuple(term.text for term in in_title + in_summary)
    return Relevance(topic.name, round(max(total, 0.0), 3), matched, by_name)


def relevances(title: str, summary: str, topics: Sequence[Profile]) -> tuple[Relevance, ...]:
    """The topics an item is relevant to (score at or above the threshold), best first.

    Ties go to a topic matched by keywords over one matched by names only, then to the
    later topic: a guide's later steps are narrower, and an item that fits a basic and an
    advanced step equally well ("Fine-tune Llama 2 with DPO") is about the advanced one
    (measured on the tuning split of bench/curation.py).
    """
    title_words, summary_words = words(mask(title)), words(mask(summary))
    ceiling = float("inf") if len(summary_words.stems) >= SHORT_SUMMARY else TITLE_WEIGHT
    scored = [(score(title_words, summary_words, topic), index)
              for index, topic in enumerate(topics)]
    kept = [(found, index) for found, index in scored
            if found.score > 0 and found.score >= min(topics[index].threshold, ceiling)]
    kept.sort(key=lambda pair: (-pair[0].score, pair[0].by_name, -pair[1]))
    return tuple(relevance for relevance, _ in kept)


def topic_names(title: str, summary: str, topics: Sequence[Profile]) -> tuple[str, ...]:
    """Names of the topics an item is relevant to, best first."""
    return tuple(relevance.topic for relevance in relevances(title, summary, topics))
