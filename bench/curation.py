"""Curation benchmark: how much of what the digest shows on each topic is relevant.

Reads the labelled sets in bench/data/ (real posts and one real week of arXiv cs.CL, each
item labelled by hand with the bundled guide's topics it belongs to), builds the digest's
topic sections with the bundled topics exactly as `linkfresh digest` does (`build_digest`
with relevance profiles, `[digest] per_topic` items per topic), and reports per topic and
overall, on the tuning split and on the held-out split:

- shown precision: of the items listed in full under a topic, the share labelled with it;
- recall: of the labelled (item, topic) pairs, the share the digest lists or mentions.

Posts are digested a week at a time (the blog's real weeks); the papers are one week.
`--methods` compares the relevance score with the old whole-word keyword matching and with
variants (no stemming, a full Snowball stemmer, no exclusions, no model names, the guide
step's own terms added to each topic's keywords). The numbers
are written to results/curation.json and results/curation.md and are reported, not asserted.

    .venv/bin/python bench/curation.py [--per-topic 5] [--methods all] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from linkfresh.collector.guide.read import read_guide
from linkfresh.collector.guide.topic_seeds import derive_topics
from linkfresh.collector.news import relevance as relevance_module
from linkfresh.collector.news import terms as terms_module
from linkfresh.collector.news.relevance import Profile, profiles
from linkfresh.collector.types import Paper, Post, Topic
from linkfresh.config.bundled import bundled_guide_path, bundled_topics
from linkfresh.context import to_topic
from linkfresh.reports.digest import build_digest
from linkfresh.reports.digest_model import Period

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"
SPLITS = ("tuning", "heldout")


@dataclass(frozen=True)
class Item:
    id: str
    url: str
    date: str
    title: str
    summary: str
    topics: frozenset[str]
    split: str


def load(name: str) -> list[Item]:
    raw = json.loads((DATA / f"curation-{name}.json").read_text(encoding="utf-8"))
    return [Item(i["id"], i["url"], i["date"], i["title"], i["summary"], frozenset(i["topics"]),
                 i["split"]) for i in raw["items"]]


def _moment(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def as_paper(item: Item, topics: tuple[str, ...] = ()) -> Paper:
    when = _moment(item.date)
    return Paper(item.id, 1, item.title, ("A",), item.summary, ("cs.CL",), when, when, item.url,
                 topics=topics)


def as_post(item: Item, topics: tuple[str, ...] = ()) -> Post:
    return Post(item.url, item.title, "Blog", _moment(item.date), item.summary, topics)


def weeks(items: Sequence[Item]) -> Iterator[list[Item]]:
    """Items grouped by ISO week, in date order."""
    by_week: dict[tuple[int, int], list[Item]] = {}
    for item in items:
        year, week, _ = _moment(item.date).isocalendar()
        by_week.setdefault((year, week), []).append(item)
    for key in sorted(by_week):
        yield by_week[key]


@dataclass(frozen=True)
class Placer:
    """A method: the topics an item belongs to, best first, and the profiles the digest
    ranks with (None: the digest lists stored topics newest first, as it used to)."""

    place: Callable[[Item], tuple[str, ...]]
    relevance: Sequence[Profile] | None = None


@dataclass
class Tally:
    shown: int = 0
    shown_relevant: int = 0
    labelled: int = 0
    found: int = 0

    def add(self, other: Tally) -> None:
        self.shown += other.shown
        self.shown_relevant += other.shown_relevant
        self.labelled += other.labelled
        self.found += other.found

    @property
    def precision(self) -> float | None:
        return self.shown_relevant / self.shown if self.shown else None

    @property
    def recall(self) -> float | None:
        return self.found / self.labelled if self.labelled else None


def measure(items: Sequence[Item], kind: str, placer: Placer, names: Sequence[str],
            per_topic: int, by_week: bool) -> dict[str, Tally]:
    """Digest the items (a week at a time when `by_week`) and tally each topic."""
    tallies = {name: Tally() for name in names}
    batches = list(weeks(items)) if by_week else [list(items)]
    for batch in batches:
        placed = {item.id: placer.place(item) for item in batch}
        start = min(_moment(item.date) for item in batch)
        period = Period(start, start + timedelta(days=8))
        if kind == "papers":
            digest = build_digest(period=period, now=period.end, guides=[], links_checked=0,
                                  papers=[as_paper(i, placed[i.id]) for i in batch],
                                  topics=names, per_topic=per_topic, relevance=placer.relevance)
            shown = {news.topic: [p.arxiv_id for p in news.papers] for news in digest.topics}
        else:
            digest = build_digest(period=period, now=period.end, guides=[], links_checked=0,
                                  posts=[as_post(i, placed[i.id]) for i in batch],
                                  topics=names, per_topic=per_topic, relevance=placer.relevance)
            shown = {news.topic: [p.url for p in news.posts] for news in digest.topics}
        key = {item.id if kind == "papers" else item.url: item for item in batch}
        for name in names:
            tally = tallies[name]
            for shown_key in shown.get(name, []):
                tally.shown += 1
                tally.shown_relevant += name in key[shown_key].topics
            for item in batch:
                if name in item.topics:
                    tally.labelled += 1
                    tally.found += name in placed[item.id]
    return tallies


# ---- methods -------------------------------------------------------------------------------

def relevance_placer(topic_profiles: Sequence[Profile]) -> Placer:
    return Placer(lambda item: relevance_module.topic_names(item.title, item.summary,
                                                            topic_profiles), topic_profiles)


def keyword_placer(topics: Sequence[Topic]) -> Placer:
    """The matching linkfresh used before the relevance score (for comparison): each keyword
    as a whole word or phrase with an optional -s/-es, 2 points in the title, 1 in the
    summary, threshold 2, over the keywords and names alike, no exclusions."""
    def pattern(keyword: str) -> re.Pattern[str]:
        parts = [re.escape(w) for w in re.split(r"[\s\-]+", keyword.lower()) if w]
        return re.compile(r"(?<!\w)" + r"[\s\-]+".join(parts) + r"(?:s|es)?(?!\w)", re.I)

    compiled = [(t.name, [pattern(k) for k in (*t.keywords, *t.names) if k.strip()])
                for t in topics]

    def place(item: Item) -> tuple[str, ...]:
        scored = []
        for index, (name, patterns) in enumerate(compiled):
            score = sum(2 if p.search(item.title) else 1 if p.search(item.summary) else 0
                        for p in patterns)
            if score >= 2:
                scored.append((-score, index, name))
        return tuple(name for *_, name in sorted(scored))

    return Placer(place)


@contextmanager
def stemmer(name: str) -> Iterator[None]:
    """Swap the stemmer the relevance score uses: "light" (ours), "none" or "snowball"."""
    original = terms_module.stem
    if name == "none":
        terms_module.stem = lambda word: word
    elif name == "snowball":
        import snowballstemmer  # a test dependency, for this comparison only

        english = snowballstemmer.stemmer("english")
        terms_module.stem = english.stemWord
    try:
        yield
    finally:
        terms_module.stem = original


def methods(topics: Sequence[Topic]) -> dict[str, tuple[str, Callable[[], Placer]]]:
    """name -> (stemmer, how to build the placer once the stemmer is in place)."""
    plain = [replace(t, exclude=()) for t in topics]
    no_names = [replace(t, names=()) for t in topics]
    # The guide's own words for each step (its **Topics:** bullets), added to the keywords.
    steps = {t.section: t.keywords for t in derive_topics(read_guide(bundled_guide_path()))}
    with_guide = [replace(t, keywords=t.keywords + steps.get(t.section, ())) for t in topics]
    return {
        "relevance": ("light", lambda: relevance_placer(profiles(topics))),
        "old keyword match": ("light", lambda: keyword_placer(topics)),
        "relevance, no stemming": ("none", lambda: relevance_placer(profiles(topics))),
        "relevance, Snowball stemmer": ("snowball", lambda: relevance_placer(profiles(topics))),
        "relevance, no exclusions": ("light", lambda: relevance_placer(profiles(plain))),
        "relevance, no model names": ("light", lambda: relevance_placer(profiles(no_names))),
        "relevance + guide step terms": ("light", lambda: relevance_placer(profiles(with_guide))),
    }


# The bundled queries before they were rewritten for arXiv's stemming and phrase rules.
OLD_QUERIES = {
    'Transformer architecture':
        'cat:cs.CL AND (ti:transformer OR ti:"self-attention" OR ti:"positional encoding")',
    'BERT and encoder models':
        'cat:cs.CL AND (ti:BERT OR ti:RoBERTa OR ti:DeBERTa OR ti:encoder)',
    'GPT and decoder-only models':
        'cat:cs.CL AND (ti:GPT OR ti:"decoder-only" OR ti:"causal language model" OR ti:Llama)',
    'T5 and encoder-decoder models':
        'cat:cs.CL AND (ti:T5 OR ti:"encoder-decoder" OR ti:"text-to-text")',
    'Pre-training and fine-tuning':
        'cat:cs.CL AND (ti:pretraining OR ti:"pre-training" OR ti:"fine-tuning" OR ti:finetuning)',
    'Evaluation and benchmarks':
        'cat:cs.CL AND (ti:benchmark OR ti:evaluation) AND abs:"language model"',
    'Bias and fairness':
        'cat:cs.CL AND (ti:bias OR ti:fairness) AND abs:"language model"',
    'Interpretability':
        ('cat:cs.CL AND (ti:interpretability OR ti:explainability OR ti:probing OR'
         ' ti:"mechanistic")'),
    'Efficient inference':
        ('cat:cs.CL AND (ti:quantization OR ti:pruning OR ti:distillation OR ti:"efficient'
         ' inference")'),
    'Prompt engineering':
        'cat:cs.CL AND (ti:prompt OR ti:prompting OR ti:"chain-of-thought")',
    'RLHF and alignment':
        ('cat:cs.CL AND (ti:RLHF OR ti:alignment OR ti:"human feedback" OR ti:"preference'
         ' optimization")'),
    'Retrieval and semantic search':
        'cat:cs.CL AND (ti:retrieval OR ti:RAG OR ti:"semantic search")',
    'Conversational AI':
        'cat:cs.CL AND (ti:dialogue OR ti:chatbot OR ti:conversational)',
    'LLM applications in healthcare, finance, education and law':
        ('cat:cs.CL AND (ti:clinical OR ti:medical OR ti:financial OR ti:legal OR'
         ' ti:education) AND ti:"language model"'),
}


def query_figures(items: Sequence[Item], topics: Sequence[Topic]) -> dict[str, object]:
    """What each topic's arXiv query returns from the labelled week (arXiv's search emulated,
    bench/arxiv_search.py): old and new queries, how many papers, how many labelled with the
    topic, and the topic's labelled papers found, before the relevance score re-filters."""
    from arxiv_search import Record, compile_query

    records = {item.id: Record(item.title, item.summary, ("cs.CL",)) for item in items}
    figures: dict[str, object] = {}
    for topic in topics:
        row = {}
        for label, query in (("old", OLD_QUERIES.get(topic.name, "")), ("new", topic.arxiv_query)):
            match = compile_query(query)
            found = [item for item in items if match(records[item.id])]
            relevant = sum(topic.name in item.topics for item in found)
            row[label] = {"returned": len(found), "relevant": relevant,
                          "labelled": sum(topic.name in item.topics for item in items)}
        figures[topic.name] = row
    return figures


# ---- report --------------------------------------------------------------------------------

def _figure(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def run(per_topic: int, chosen: Sequence[str], verbose: bool) -> dict[str, object]:
    topics = [to_topic(t) for t in bundled_topics()]
    names = [t.name for t in topics]
    data = {"posts": load("posts"), "papers": load("papers")}
    report: dict[str, object] = {"per_topic": per_topic, "methods": {},
                                 "queries": query_figures(data["papers"], topics)}
    for method, (stem_name, build) in methods(topics).items():
        if chosen != ["all"] and method not in chosen:
            continue
        with stemmer(stem_name):
            placer = build()
            result: dict[str, object] = {}
            for kind, items in data.items():
                for split in SPLITS:
                    part = [item for item in items if item.split == split]
                    tallies = measure(part, kind, placer, names, per_topic, kind == "posts")
                    total = Tally()
                    for tally in tallies.values():
                        total.add(tally)
                    result[f"{kind}/{split}"] = {
                        "precision": total.precision, "recall": total.recall,
                        "shown": total.shown, "shown_relevant": total.shown_relevant,
                        "labelled": total.labelled, "found": total.found,
                        "topics": {name: {"precision": t.precision, "recall": t.recall,
                                          "shown": t.shown, "labelled": t.labelled}
                                   for name, t in tallies.items()},
                    }
        report["methods"][method] = result  # type: ignore[index]
        line = "  ".join(
            f"{key}: P {_figure(value['precision'])} R {_figure(value['recall'])}"  # type: ignore[index]
            for key, value in result.items())
        print(f"{method:30s} {line}")
        if verbose and method == "relevance":
            for key, value in result.items():
                for name, t in value["topics"].items():  # type: ignore[index]
                    print(f"    {key:15s} {name[:40]:40s} P {_figure(t['precision'])} "
                          f"({t['shown']} shown)  R {_figure(t['recall'])} "
                          f"({t['labelled']} labelled)")
    return report


def markdown(report: dict[str, object]) -> str:
    methods_ = report["methods"]  # type: ignore[assignment]
    keys = [f"{kind}/{split}" for kind in ("posts", "papers") for split in SPLITS]
    lines = ["# Curation benchmark (bench/curation.py)", "",
             f"Shown precision (P) and recall (R), `per_topic = {report['per_topic']}`; "
             "targets: P >= 0.8 for papers and posts, R >= 0.7 for posts, on both splits.", "",
             "| method | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for method, result in methods_.items():  # type: ignore[union-attr]
        cells = [f"P {_figure(result[k]['precision'])} ({result[k]['shown_relevant']}/"
                 f"{result[k]['shown']}) · R {_figure(result[k]['recall'])}" for k in keys]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    relevance = methods_.get("relevance")  # type: ignore[union-attr]
    if relevance:
        lines += ["", "## Per topic (relevance)", "",
                  "| topic | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
        names = list(relevance[keys[0]]["topics"])
        for name in names:
            cells = []
            for k in keys:
                t = relevance[k]["topics"][name]
                cells.append(f"P {_figure(t['precision'])} ({t['shown']}) · "
                             f"R {_figure(t['recall'])} ({t['labelled']})")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "## arXiv queries on the labelled week (arXiv's search emulated)", "",
              "Papers returned / of them labelled with the topic / the topic's labelled papers.",
              "", "| topic | old query | new query |", "|---|---|---|"]
    for name, row in report["queries"].items():  # type: ignore[union-attr]
        cells = [f"{row[k]['returned']} / {row[k]['relevant']} / {row[k]['labelled']}"
                 for k in ("old", "new")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-topic", type=int, default=5)
    parser.add_argument("--methods", default="all", help="comma-separated method names, or all")
    parser.add_argument("--verbose", action="store_true", help="per-topic figures")
    args = parser.parse_args()
    report = run(args.per_topic, args.methods.split(","), args.verbose)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "curation.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (RESULTS / "curation.md").write_text(markdown(report), encoding="utf-8")
    print(f"written: {RESULTS / 'curation.json'}, {RESULTS / 'curation.md'}")


if __name__ == "__main__":
    main()
