"""Starter topics derived from a guide's steps and their `**Topics:**` bullets (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from linkfresh.collector.types import Guide, Topic

_STEP_NUMBER = re.compile(r"^\d+\.\s*")
_PARENTHESES = re.compile(r"\(([^()]*)\)")
_MAX_KEYWORDS = 8
_QUERY_KEYWORDS = 5
# The English stop words arXiv's search (Lucene) drops from a query.
_STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with",
})


def _keywords(name: str) -> list[str]:
    """Short phrases from a topic bullet: its head, and acronyms given in parentheses."""
    found: list[str] = []
    for inner in _PARENTHESES.findall(name):
        if inner.isupper() and 1 < len(inner) <= 8:
            found.append(inner.lower())
    head = _PARENTHESES.sub("", name).split(":")[0].split(" - ")[0]
    for part in re.split(r",| and ", head):
        words = part.strip(" .").lower()
        if words and len(words.split()) <= 4:
            found.append(words)
    return found


def arxiv_query_for(keywords: Sequence[str], limit: int = _QUERY_KEYWORDS) -> str:
    """An arXiv query for `keywords`, written as arXiv will read it.

    arXiv stems words and reads a quoted phrase as all its words in any order, so a phrase
    is written as its words ANDed in the title; stop words and one-letter words are dropped,
    and a phrase left with one distinct word ("text-to-text" is just "text") is skipped: it
    would match every title with that word. Results are re-scored for relevance anyway.
    """
    parts: list[str] = []
    for keyword in keywords:
        found = [word for word in re.findall(r"[0-9a-z]+", keyword.lower())
                 if word not in _STOP_WORDS and (len(word) > 1 or word.isdigit())]
        distinct = list(dict.fromkeys(found))
        if not distinct or (len(found) > 1 and len(distinct) < 2):
            continue
        if len(distinct) == 1:
            parts.append(f"ti:{distinct[0]}")
        else:
            parts.append("(" + " AND ".join(f"ti:{word}" for word in distinct) + ")")
        if len(parts) == limit:
            break
    return " OR ".join(parts)


def derive_topics(guide: Guide) -> list[Topic]:
    """One topic per step that lists topics; keywords come from its bullets."""
    by_step: dict[str, list[str]] = {}
    for topic in guide.topics:
        by_step.setdefault(topic.step, []).extend(_keywords(topic.name))
    topics = []
    for step, keywords in by_step.items():
        unique = list(dict.fromkeys(keywords))[:_MAX_KEYWORDS]
        query = arxiv_query_for(unique)
        topics.append(Topic(_STEP_NUMBER.sub("", step), query, tuple(unique), step))
    return topics
