"""Matching papers and posts to topics by keyword scoring over title and summary (pure).

A keyword matches as a whole word or phrase, case-insensitively; spaces and hyphens inside
a phrase are interchangeable and a plural `s`/`es` is allowed ("transformers" matches
"transformer", "self attention" matches "self-attention").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from linkfresh.collector.types import Topic

# A keyword found in the title is strong evidence; one found only in the summary is weak.
TITLE_WEIGHT = 2
SUMMARY_WEIGHT = 1
# With these weights the default threshold asks for one keyword in the title, or two
# different keywords in the summary: a single passing mention does not make a post topical.
DEFAULT_THRESHOLD = 2


def keyword_pattern(keyword: str) -> re.Pattern[str] | None:
    """The regex for one keyword, or None when it has no word characters."""
    words = [word for word in re.split(r"[\s\-]+", keyword.strip().lower()) if word]
    if not words or not any(re.search(r"\w", word) for word in words):
        return None
    body = r"[\s\-]+".join(re.escape(word) for word in words)
    return re.compile(rf"(?<!\w){body}(?:s|es)?(?!\w)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CompiledTopic:
    """A topic with its keyword patterns compiled once."""

    name: str
    patterns: tuple[re.Pattern[str], ...]


def compile_topics(topics: Iterable[Topic]) -> tuple[CompiledTopic, ...]:
    """Compile every topic's keywords; keywords with no word characters are dropped."""
    compiled = []
    for topic in topics:
        patterns = [keyword_pattern(keyword) for keyword in dict.fromkeys(topic.keywords)]
        compiled.append(CompiledTopic(topic.name, tuple(p for p in patterns if p is not None)))
    return tuple(compiled)


def score(title: str, summary: str, topic: CompiledTopic) -> int:
    """Each distinct keyword counts once: `TITLE_WEIGHT` in the title, else `SUMMARY_WEIGHT`."""
    total = 0
    for pattern in topic.patterns:
        if pattern.search(title):
            total += TITLE_WEIGHT
        elif pattern.search(summary):
            total += SUMMARY_WEIGHT
    return total


def match_topics(
    title: str,
    summary: str,
    topics: tuple[CompiledTopic, ...],
    threshold: int = DEFAULT_THRESHOLD,
) -> tuple[str, ...]:
    """Names of the topics scoring at least `threshold`, best first (ties: topic order)."""
    scored = [(score(title, summary, topic), index, topic.name)
              for index, topic in enumerate(topics)]
    ranked = sorted((item for item in scored if item[0] >= threshold),
                    key=lambda item: (-item[0], item[1]))
    return tuple(name for _, _, name in ranked)
