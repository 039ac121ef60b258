"""Papers, posts, topics and source runs: versions do not duplicate, topics accumulate."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from linkfresh.collector.types import Paper, Post, Topic
from linkfresh.storage.digest_queries import failed_sources, new_papers, new_posts
from linkfresh.storage.models import PaperRow, TopicRow
from linkfresh.storage.news import (
    last_seen_paper,
    record_source_run,
    sync_topics,
    upsert_papers,
    upsert_posts,
)
from tests.storage_helpers import T0, database

PAPER = Paper(arxiv_id="2403.01234", version=1, title="Attention again", authors=("A. B.",),
              abstract="...", categories=("cs.CL",), published=T0 - timedelta(days=2),
              updated=T0 - timedelta(days=2), abs_url="https://arxiv.org/abs/2403.01234",
              topics=("Transformer architecture",))


def test_new_version_updates_and_is_not_new(db_url: str) -> None:
    engine = database(db_url)
    assert upsert_papers(engine, [PAPER], now=T0) == ["2403.01234"]
    v2 = replace(PAPER, version=2, title="Attention again (revised)", updated=T0)
    assert upsert_papers(engine, [v2], now=T0 + timedelta(days=1)) == []
    assert upsert_papers(engine, [PAPER], now=T0 + timedelta(days=2)) == []  # older: ignored
    with engine.connect() as conn:
        rows = conn.execute(select(PaperRow.version, PaperRow.title)).all()
    assert rows == [(2, "Attention again (revised)")]


def test_a_paper_may_belong_to_several_topics(db_url: str) -> None:
    engine = database(db_url)
    upsert_papers(engine, [PAPER], now=T0)
    other = replace(PAPER, topics=("Efficient inference",))
    assert upsert_papers(engine, [other], now=T0 + timedelta(days=8)) == []
    week1 = new_papers(engine, T0, T0 + timedelta(days=7))
    week2 = new_papers(engine, T0 + timedelta(days=7), T0 + timedelta(days=14))
    assert list(week1) == ["Transformer architecture"]
    assert list(week2) == ["Efficient inference"]
    assert week2["Efficient inference"][0].topics == ("Efficient inference",
                                                      "Transformer architecture")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PaperRow)).scalar_one() == 1


def test_last_seen_paper_per_topic(db_url: str) -> None:
    engine = database(db_url)
    assert last_seen_paper(engine, "Transformer architecture") is None
    newer = replace(PAPER, arxiv_id="2403.09999", published=T0 - timedelta(hours=1))
    upsert_papers(engine, [PAPER, newer], now=T0)
    assert last_seen_paper(engine, "Transformer architecture") == T0 - timedelta(hours=1)
    assert last_seen_paper(engine, "RLHF") is None


def test_posts_dedupe_by_url_and_gain_topics(db_url: str) -> None:
    engine = database(db_url)
    post = Post(url="https://blog.example/p1", title="Post", source="Blog",
                published=T0 - timedelta(days=1), topics=("RLHF",))
    undated = Post(url="https://blog.example/p2", title="Undated", source="Blog",
                   published=None, topics=("RLHF",))
    assert upsert_posts(engine, [post, undated, post], now=T0) == [post.url, undated.url]
    assert upsert_posts(engine, [replace(post, topics=("Evaluation",))], now=T0) == []
    news = new_posts(engine, T0, T0 + timedelta(days=7))
    assert [p.url for p in news["RLHF"]] == [post.url, undated.url]  # undated last
    assert news["Evaluation"][0].topics == ("Evaluation", "RLHF")


def test_topics_sync_and_source_runs(db_url: str) -> None:
    engine = database(db_url)
    sync_topics(engine, [Topic("RLHF", arxiv_query="all:RLHF", keywords=("reward",))])
    sync_topics(engine, [Topic("RLHF", arxiv_query="all:rlhf")])
    with engine.connect() as conn:
        assert conn.execute(select(TopicRow.arxiv_query)).scalars().all() == ["all:rlhf"]
    record_source_run(engine, "Hugging Face", True, counts={"new": 3}, now=T0)
    record_source_run(engine, "The Batch", False, "HTML instead of XML", now=T0 + timedelta(1))
    failures = failed_sources(engine, T0, T0 + timedelta(days=7))
    assert [(f.source, f.reason) for f in failures] == [("The Batch", "HTML instead of XML")]
