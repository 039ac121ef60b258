"""Starter topics derived from a guide's steps and their `**Topics:**` bullets (pure)."""

from __future__ import annotations

import re

from linkfresh.collector.types import Guide, Topic

_STEP_NUMBER = re.compile(r"^\d+\.\s*")
_PARENTHESES = re.compile(r"\(([^()]*)\)")
_MAX_KEYWORDS = 8


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


def derive_topics(guide: Guide) -> list[Topic]:
    """One topic per step that lists topics; keywords come from its bullets."""
    by_step: dict[str, list[str]] = {}
    for topic in guide.topics:
        by_step.setdefault(topic.step, []).extend(_keywords(topic.name))
    topics = []
    for step, keywords in by_step.items():
        unique = list(dict.fromkeys(keywords))[:_MAX_KEYWORDS]
        query = " OR ".join(f'abs:"{keyword}"' for keyword in unique[:5])
        topics.append(Topic(_STEP_NUMBER.sub("", step), query, tuple(unique), step))
    return topics
