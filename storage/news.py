"""Papers, posts, topics and source runs: what the collector stores and what it asks back.

Papers are keyed by arXiv id without version (a new version updates, it is not new); posts
by URL. Either may belong to several topics; a topic link records when it was first made.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkfresh.collector.types import Paper, Post, Topic
from linkfresh.storage.engine import Db, session_scope
from linkfresh.storage.models import PaperRow, PaperTopic, PostRow, PostTopic, SourceRun, TopicRow


def _now(now: datetime | None) -> datetime:
    # The application passes `now`; the fallback keeps the collector's simple calls working.
    return now if now is not None else datetime.now(UTC)


def sync_topics(db: Db, topics: Iterable[Topic]) -> None:
    """Create or update topics by name (topics are never deleted: old news keeps its topic)."""
    with session_scope(db) as session:
        for topic in topics:
            row = _topic_ids(session, [topic.name])[topic.name]
            stored = session.get(TopicRow, row)
            assert stored is not None
            stored.section, stored.arxiv_query = topic.section, topic.arxiv_query
            stored.keywords = list(topic.keywords)


def _topic_ids(session: Session, names: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(names))
    if not wanted:
        return {}
    ids: dict[str, int] = dict(session.execute(
        select(TopicRow.name, TopicRow.id).where(TopicRow.name.in_(wanted))).all())
    for name in wanted:
        if name not in ids:
            row = TopicRow(name=name)
            session.add(row)
            session.flush()
            assert row.id is not None
            ids[name] = row.id
    return ids


def _link_topics(session: Session, table: type[PaperTopic] | type[PostTopic], column: str,
                 item_id: int, topic_ids: Iterable[int], now: datetime) -> None:
    existing = set(session.scalars(
        select(table.topic_id).where(getattr(table, column) == item_id)))
    for topic_id in sorted(set(topic_ids) - existing):
        session.add(table(**{column: item_id, "topic_id": topic_id, "added_at": now}))


def upsert_papers(db: Db, papers: Sequence[Paper], *, now: datetime | None = None) -> list[str]:
    """Store papers; returns the arXiv ids that were not known before, in input order.

    A known id with a higher version updates the row (title, abstract, ...); any paper gains
    the topics it is given (a topic link is dated, so it is news on that topic from then).
    """
    now = _now(now)
    new: list[str] = []
    with session_scope(db) as session:
        topic_ids = _topic_ids(session, (t for paper in papers for t in paper.topics))
        for paper in papers:
            row = session.scalars(
                select(PaperRow).where(PaperRow.arxiv_id == paper.arxiv_id)).one_or_none()
            if row is None:
                row = PaperRow(arxiv_id=paper.arxiv_id, title=paper.title, abs_url=paper.abs_url,
                               published=paper.published, updated=paper.updated,
                               first_seen=now, last_changed=now)
                _fill_paper(row, paper)
                session.add(row)
                session.flush()
                new.append(paper.arxiv_id)
            elif paper.version > row.version:
                _fill_paper(row, paper)
                row.last_changed = now
            assert row.id is not None
            _link_topics(session, PaperTopic, "paper_id", row.id,
                         (topic_ids[t] for t in paper.topics), now)
    return new


def _fill_paper(row: PaperRow, paper: Paper) -> None:
    row.version, row.title, row.authors = paper.version, paper.title, list(paper.authors)
    row.abstract, row.categories = paper.abstract, list(paper.categories)
    row.primary_category, row.comment = paper.primary_category, paper.comment
    row.published, row.updated = paper.published, paper.updated
    row.abs_url, row.pdf_url = paper.abs_url, paper.pdf_url


def upsert_posts(db: Db, posts: Sequence[Post], *, now: datetime | None = None) -> list[str]:
    """Store posts by URL; returns the URLs not known before. Known posts gain new topics."""
    now = _now(now)
    new: list[str] = []
    with session_scope(db) as session:
        topic_ids = _topic_ids(session, (t for post in posts for t in post.topics))
        for post in posts:
            row = session.scalars(select(PostRow).where(PostRow.url == post.url)).one_or_none()
            if row is None:
                row = PostRow(url=post.url, title=post.title, source=post.source,
                              published=post.published, summary=post.summary, first_seen=now)
                session.add(row)
                session.flush()
                new.append(post.url)
            assert row.id is not None
            _link_topics(session, PostTopic, "post_id", row.id,
                         (topic_ids[t] for t in post.topics), now)
    return new


def last_seen_paper(db: Db, topic: str) -> datetime | None:
    """The newest `published` among the papers stored for `topic` (None: first run)."""
    with session_scope(db) as session:
        return session.scalar(
            select(func.max(PaperRow.published))
            .join(PaperTopic, PaperTopic.paper_id == PaperRow.id)
            .join(TopicRow, TopicRow.id == PaperTopic.topic_id)
            .where(TopicRow.name == topic))


def record_source_run(db: Db, source: str, ok: bool, reason: str | None = None,
                      counts: dict[str, int] | None = None, run_id: int | None = None, *,
                      now: datetime | None = None) -> int:
    """Record one pull of a source (feed name, or e.g. "arxiv:Transformer architecture")."""
    with session_scope(db) as session:
        row = SourceRun(run_id=run_id, source=source, ok=ok, reason=reason,
                        counts=dict(counts or {}), at=_now(now))
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id
