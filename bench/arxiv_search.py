"""arXiv's search, emulated on a local list of papers: what a topic's query would return.

arXiv's API (Lucene underneath) stems every word with the Porter stemmer and drops English
stop words, and a quoted phrase in a field matches when all its words occur there, in any
order; `ANDNOT` excludes. This is how bench/curation.py and tests/test_arxiv_queries.py
judge a query without the network: `ti:transformer` also finds "Transformation", and
`ti:"text-to-text"` finds any title with the word "text".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import snowballstemmer

_PORTER = snowballstemmer.stemmer("porter")
_STOP = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with",
})
_TOKEN = re.compile(r'\(|\)|ANDNOT|AND|OR|[a-z]+:"[^"]*"|[a-z]+:[^\s()]+')
_WORD = re.compile(r"[0-9a-z]+")


@dataclass(frozen=True)
class Record:
    title: str
    abstract: str
    categories: tuple[str, ...]


def _stems(text: str) -> set[str]:
    return {_PORTER.stemWord(w) for w in _WORD.findall(text.lower()) if w not in _STOP}


Match = Callable[[Record], bool]


def _field(name: str, value: str) -> Match:
    value = value.strip('"')
    if name == "cat":
        return lambda r: any(c == value or c.startswith(value + ".") for c in r.categories)
    wanted = _stems(value)

    def match(record: Record) -> bool:
        text = {"ti": record.title, "abs": record.abstract}.get(
            name, f"{record.title} {record.abstract}")
        return bool(wanted) and wanted <= _stems(text)

    return match


def compile_query(query: str) -> Match:
    """A predicate for `query` (fields ti, abs, cat, all; AND, OR, ANDNOT, parentheses)."""
    tokens = _TOKEN.findall(query)
    position = 0

    def peek() -> str | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def atom() -> Match:
        token = take()
        if token == "(":
            inner = either()
            take()  # ")"
            return inner
        name, _, value = token.partition(":")
        return _field(name, value)

    def both() -> Match:
        left = atom()
        while peek() in ("AND", "ANDNOT"):
            op, right = take(), atom()
            left = ((lambda a, b: lambda r: a(r) and b(r)) if op == "AND"
                    else (lambda a, b: lambda r: a(r) and not b(r)))(left, right)
        return left

    def either() -> Match:
        left = both()
        while peek() == "OR":
            take()
            right = both()
            left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
        return left

    return either()
