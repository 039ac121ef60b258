"""Text to comparable terms: words, a light inflectional stemmer, phrases and compounds (pure).

Only inflections are folded ("benchmarks", "benchmarking" -> "benchmark"); derivations stay
apart on purpose ("transformer" is not "transformation", "encoder" is not "encoding"): that
is where a full stemmer, and arXiv's own search, mixes topics up (see bench/curation.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that end like an inflection but are not one.
_KEEP = frozenset({
    "embed", "need", "speed", "seed", "feed", "shed", "bias", "corpus", "lens", "analysis",
    "basis", "thesis", "status", "focus", "consensus", "series", "species", "news", "always",
})
# Letters and digits are separate words, so "SmolLM3" meets "SmolLM" and "Qwen2.5" meets "Qwen".
_WORD = re.compile(r"[A-Za-z]+|[0-9]+")
_DOUBLED = re.compile(r"([bdfgklmnprt])\1$")


def stem(word: str) -> str:
    """The inflectional stem of a lower-case word: plural, -ing, -ed and a final e dropped."""
    if len(word) <= 3 or word in _KEEP or word.isdigit():
        return word
    base = word
    if base.endswith("ies") and len(base) > 4:
        base = base[:-3] + "y"
    elif base.endswith(("sses", "shes", "ches", "xes")):
        base = base[:-2]
    elif base.endswith("s") and not base.endswith(("ss", "us", "is")):
        base = base[:-1]
    if base in _KEEP:
        return base
    if base.endswith("ing") and len(base) > 5:
        base = base[:-3]
        base = base[:-1] if _DOUBLED.search(base) else base
    elif base.endswith("ed") and len(base) > 4:
        base = base[:-2]
        base = base[:-1] if _DOUBLED.search(base) else base
    if base.endswith("e") and len(base) > 3:
        base = base[:-1]
    return base


@dataclass(frozen=True, slots=True)
class Words:
    """A text as stems in order, with each word's spelling (for compound names)."""

    stems: tuple[str, ...]
    raw: tuple[str, ...]


def words(text: str) -> Words:
    """`text` split into words and stemmed."""
    raw = tuple(_WORD.findall(text))
    return Words(tuple(stem(word.lower()) for word in raw), raw)


@dataclass(frozen=True, slots=True)
class Term:
    """A keyword or phrase as stems. A one-word term of three letters or more also matches the
    capitalised tail of a compound name: "BERT" in "ModernBERT", "Gemma" in "CodeGemma"."""

    text: str
    stems: tuple[str, ...]
    tail: str | None = None


def make_term(keyword: str) -> Term | None:
    """The term for `keyword`, or None when it has no letters or digits."""
    found = _WORD.findall(keyword)
    if not found:
        return None
    first = found[0].lower()
    tail = first if len(found) == 1 and len(first) >= 3 and first.isalpha() else None
    return Term(" ".join(keyword.split()), tuple(stem(word.lower()) for word in found), tail)


def _compound_tail(raw: str, tail: str) -> bool:
    cut = len(raw) - len(tail)
    return (cut > 0 and raw.lower().endswith(tail) and raw[cut].isupper()
            and raw[cut - 1].islower())


def count(term: Term, text: Words) -> int:
    """How often `term` occurs in `text`: a phrase as consecutive stems, in any case."""
    width = len(term.stems)
    return sum(
        1 for index in range(len(text.stems) - width + 1)
        if text.stems[index:index + width] == term.stems
        or (term.tail is not None and width == 1 and _compound_tail(text.raw[index], term.tail))
    )
