"""arXiv matches for resources the guide names without a link ("BERT paper", a quoted title):
which arXiv title searches to make, and when a search result is a clear match (pure).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from linkfresh.collector.news.outcomes import SourceKind, SourceOutcome, SourceStatus
from linkfresh.collector.types import NamedResource, Paper

SUGGESTIONS_SOURCE = "suggestions"
# Resource kinds (lower case) worth an arXiv title search; videos and courses are not on arXiv.
SEARCHED_KINDS = frozenset({"paper", "papers", "book"})
# A title "clearly matches" at this similarity of normalised titles (difflib ratio): high
# enough that only case, punctuation and a word of difference get through.
TITLE_SIMILARITY = 0.85
# Models whose introducing paper is not titled "<MODEL>: ...", so "<MODEL> paper" is
# searched by the paper's real title instead. Keys are lower case.
KNOWN_TITLES: dict[str, str] = {
    "transformer": "Attention Is All You Need",
    "bert": "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding",
    "gpt-3": "Language Models are Few-Shot Learners",
    "t5": "Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer",
    "instructgpt": "Training language models to follow instructions with human feedback",
    "elmo": "Deep contextualized word representations",
    "word2vec": "Efficient Estimation of Word Representations in Vector Space",
    "chinchilla": "Training Compute-Optimal Large Language Models",
    "distilbert": "DistilBERT, a distilled version of BERT: smaller, faster, cheaper and lighter",
}
_QUOTED = re.compile(r'"([^"\n]{2,200})"|\u201c([^\u201d\n]{2,200})\u201d')
_MODEL_PAPER = re.compile(r"^(?P<model>\S.{0,40}?)\s+paper$", re.IGNORECASE)
_TITLE_END = re.compile(r"\s+(?:\(|-\s|\u2013|\u2014|by\s)|\.\s")
_UNSAFE = re.compile(r"[^\w\s\-.,']")


@dataclass(frozen=True, slots=True)
class TitleQuery:
    """One arXiv title search: a title `phrase`, or a `model` name ("<MODEL> paper")."""

    phrase: str
    model: str | None = None

    @property
    def search(self) -> str:
        """The arXiv API `search_query`: a phrase search in titles (`ti:"..."`)."""
        words = " ".join(_UNSAFE.sub(" ", self.phrase).split())
        return f'ti:"{words}"'


@dataclass(frozen=True, slots=True)
class ResourceMatch:
    """The outcome of searching for one resource: a matching paper, or none (`title` None)."""

    guide: str
    resource: str
    query: str | None = None
    title: str | None = None
    url: str | None = None


def queries_for(resource: NamedResource) -> list[TitleQuery]:
    """The searches a resource line asks for, in the order it names them.

    Quoted text is the signal: `"<MODEL> paper"` searches the model (by its known title when
    `KNOWN_TITLES` has it), any other quoted phrase is taken as a title. A `Paper:` line with
    no quotes is taken to start with its title (up to " (", " - ", " by " or a full stop).
    """
    if resource.has_link or resource.kind.strip().lower() not in SEARCHED_KINDS:
        return []
    quoted = [a or b for a, b in _QUOTED.findall(resource.text)]
    if not quoted and resource.kind.strip().lower() == "paper":
        quoted = [_TITLE_END.split(resource.text, maxsplit=1)[0]]
    found: list[TitleQuery] = []
    for phrase in (" ".join(q.split()).strip(" .") for q in quoted):
        model = _MODEL_PAPER.match(phrase)
        name = model["model"] if model else phrase if len(phrase.split()) == 1 else None
        if name is not None and name.lower() in KNOWN_TITLES:
            found.append(TitleQuery(KNOWN_TITLES[name.lower()]))
        elif name is not None:
            found.append(TitleQuery(name, model=name))
        elif len(phrase.split()) >= 3:  # two words are a topic, not a title
            found.append(TitleQuery(phrase))
    return list(dict.fromkeys(found))


def normalise_title(title: str) -> str:
    """Lower case, compatibility-folded, punctuation as spaces, single-spaced."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", folded).split())


def title_similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, normalise_title(a), normalise_title(b)).ratio()


def clear_match(query: TitleQuery, results: Sequence[Paper]) -> Paper | None:
    """The paper a search clearly found, else None. The rule:

    - a title query matches a result whose normalised title is at least `TITLE_SIMILARITY`
      similar to the phrase; the most similar wins, then the earliest submitted;
    - a model query ("<MODEL> paper" with no known title) matches a result titled
      "<MODEL>: ..." (or "<MODEL>, ..."), the naming convention of papers that introduce a
      model; the earliest submitted wins, since later papers reuse the name.
    """
    if query.model is None:
        scored = [(title_similarity(query.phrase, p.title), p) for p in results]
        close = [(score, p) for score, p in scored if score >= TITLE_SIMILARITY]
        if not close:
            return None
        return min(close, key=lambda pair: (-pair[0], pair[1].published, pair[1].arxiv_id))[1]
    prefix = re.compile(rf"^\s*{re.escape(query.model)}\s*[:,]\s", re.IGNORECASE)
    named = [p for p in results if prefix.match(" ".join(p.title.split()))]
    return min(named, key=lambda p: (p.published, p.arxiv_id)) if named else None


Search = Callable[[TitleQuery], tuple[list[Paper], SourceOutcome]]


def find_resource_matches(
    resources: Iterable[tuple[str, NamedResource]],
    search: Search,
    *,
    max_searches: int,
) -> tuple[list[ResourceMatch], SourceOutcome]:
    """Search for each `(guide, resource)` until one query clearly matches.

    At most `max_searches` searches (each costs arXiv's 3-second spacing); a resource whose
    searches were cut short is left for the next run. The first failed search ends the pass:
    what was settled is kept, the failure is the outcome (and nothing is recorded for the
    resource it hit, so it is retried).
    """
    found: list[ResourceMatch] = []
    searches = 0
    for guide, resource in resources:
        queries = queries_for(resource)
        if not queries:
            continue
        match: ResourceMatch | None = None
        for query in queries:
            if searches >= max_searches:
                return found, _done(found, searches, note="search cap reached")
            papers, outcome = search(query)
            searches += 1
            if not outcome.ok:
                return found, _failed(outcome, found, searches)
            paper = clear_match(query, papers)
            if paper is not None:
                match = ResourceMatch(guide, resource.text, query.phrase, paper.title,
                                        paper.abs_url)
                break
        found.append(match or ResourceMatch(guide, resource.text))
    return found, _done(found, searches)


def _done(found: list[ResourceMatch], searches: int, note: str | None = None) -> SourceOutcome:
    return SourceOutcome(SUGGESTIONS_SOURCE, SourceKind.ARXIV, SourceStatus.OK,
                         items=sum(1 for s in found if s.url), requests=searches, note=note)


def _failed(outcome: SourceOutcome, found: list[ResourceMatch], searches: int
            ) -> SourceOutcome:
    return SourceOutcome(SUGGESTIONS_SOURCE, SourceKind.ARXIV, SourceStatus.FAILED,
                         items=sum(1 for s in found if s.url), reason=outcome.reason,
                         failure=outcome.failure, url=outcome.url, requests=searches)
