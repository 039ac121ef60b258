"""The digest's questions about a period [start, end): links checked, newly broken, still
broken, fixed, unverified, permanent redirects, new papers and posts per topic, failed sources.

Every answer is a plain value from `storage.values` or `collector.types`, sorted, so the same
database and period always give the same digest. Only links still in a guide are reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, func, select

from linkfresh.collector.types import Link, Paper, Post
from linkfresh.storage.engine import Db, reading
from linkfresh.storage.models import (
    GuideRow,
    Occurrence,
    PageReference,
    PaperRow,
    PaperTopic,
    PostRow,
    PostTopic,
    Resource,
    ResultRow,
    RunRow,
    SourceRun,
    TopicRow,
)
from linkfresh.storage.state import Event, Verdict
from linkfresh.storage.values import (
    LinkChange,
    LinkIssue,
    SourceFailure,
    link_from,
    paper_from,
    post_from,
    result_from,
)

R, OCC, G, C = (Resource.__table__, Occurrence.__table__, GuideRow.__table__,
              ResultRow.__table__)
Item = TypeVar("Item")


def places(conn: Connection, resource_ids: Iterable[int]) -> dict[int, tuple[Link, ...]]:
    """Active occurrences (as `Link`s) per resource id, by guide and line."""
    ids = sorted(set(resource_ids))
    found: dict[int, list[Link]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            select(OCC, G.c.name.label("guide_name"), R.c.url.label("resource_url"))
            .join(G, G.c.id == OCC.c.guide_id).join(R, R.c.id == OCC.c.resource_id)
            .where(OCC.c.resource_id.in_(ids[start : start + 500]), OCC.c.retired_at.is_(None))
            .order_by(G.c.name, OCC.c.line, OCC.c.id))
        for row in rows:
            found[row.resource_id].append(link_from(row.resource_url, row.guide_name, row))
    return {rid: tuple(links) for rid, links in found.items()}


def links_checked(db: Db, start: datetime, end: datetime) -> int:
    """How many distinct links were checked in the period."""
    with reading(db) as conn:
        return int(conn.execute(select(func.count(func.distinct(C.c.resource_id))).where(
            C.c.checked_at >= start, C.c.checked_at < end)).scalar_one())


def _by_event(db: Db, event: Event, start: datetime, end: datetime,
              end_for_duration: datetime) -> list[LinkIssue]:
    with reading(db) as conn:
        rows = conn.execute(
            select(C, R.c.url, R.c.verdict.label("current"), R.c.failing_since,
                   R.c.last_final_url)
            .join(R, R.c.id == C.c.resource_id)
            .where(C.c.event == event.value, C.c.checked_at >= start, C.c.checked_at < end)
            .order_by(C.c.checked_at, C.c.id)).all()
        latest = {row.resource_id: row for row in rows}  # the last such event per link
        where = places(conn, latest)
        confirmed = _last_broken(conn, latest) if event is Event.FIXED else {}
    issues = []
    for rid, row in latest.items():
        if rid not in where:
            continue
        still = row.current == Verdict.BROKEN.value
        since = row.failing_since if still and row.failing_since else row.checked_at
        issues.append(LinkIssue(
            url=row.url, verdict=row.current, links=where[rid], evidence=result_from(row.url, row),
            since=since, duration=end_for_duration - since if still else None,
            redirect_target=_redirect_target(row.final_url, row.url), still_broken=still,
            broken_since=confirmed.get(rid)))
    return sorted(issues, key=lambda issue: issue.url)


def _last_broken(conn: Connection, fixes: dict[int, Any]) -> dict[int, datetime]:
    """For each fix, when the link had last been confirmed broken before it."""
    found: dict[int, datetime] = {}
    for rid, fix in fixes.items():
        when = conn.execute(select(func.max(C.c.checked_at)).where(
            C.c.resource_id == rid, C.c.event == Event.BROKEN.value,
            C.c.checked_at < fix.checked_at)).scalar_one()
        if when is not None:
            found[rid] = when
    return found


def _redirect_target(final_url: str | None, url: str) -> str | None:
    return final_url if final_url and final_url != url else None


def newly_broken(db: Db, start: datetime, end: datetime) -> list[LinkIssue]:
    """Links confirmed broken in the period, with the confirming check as evidence."""
    return _by_event(db, Event.BROKEN, start, end, end)


def fixed(db: Db, start: datetime, end: datetime) -> list[LinkIssue]:
    """Links that recovered in the period after having been reported broken."""
    return _by_event(db, Event.FIXED, start, end, end)


def _current(db: Db, verdicts: Iterable[Verdict], end: datetime,
             before: datetime | None = None) -> list[LinkIssue]:
    query = (select(R, C.c.id.label("result_id")).outerjoin(C, C.c.id == R.c.latest_result_id)
             .where(R.c.verdict.in_([v.value for v in verdicts])).order_by(R.c.url))
    if before is not None:
        query = query.where(R.c.broken_since < before)
    with reading(db) as conn:
        rows = conn.execute(query).all()
        where = places(conn, (row.id for row in rows))
        evidence = {r.id: r for r in conn.execute(
            select(C).where(C.c.id.in_([row.result_id for row in rows if row.result_id])))}
    issues = []
    for row in rows:
        if row.id not in where:
            continue
        since = row.failing_since or row.since
        proof = evidence.get(row.result_id)
        issues.append(LinkIssue(
            url=row.url, verdict=row.verdict, links=where[row.id],
            evidence=result_from(row.url, proof) if proof is not None else None, since=since,
            duration=end - since if since else None,
            redirect_target=_redirect_target(row.last_final_url, row.url),
            still_broken=row.verdict == Verdict.BROKEN.value))
    return issues


def still_broken(db: Db, start: datetime, end: datetime) -> list[LinkIssue]:
    """Links broken now that were already broken before the period, with how long."""
    return _current(db, [Verdict.BROKEN], end, before=start)


def unverified(db: Db, end: datetime) -> list[LinkIssue]:
    """Links behind bot walls or rate limits: listed apart, never counted as broken."""
    return _current(db, [Verdict.UNVERIFIED], end)


def flapping(db: Db, end: datetime) -> list[LinkIssue]:
    return _current(db, [Verdict.FLAPPING], end)


def permanent_redirects(db: Db, end: datetime) -> list[LinkIssue]:
    """Links whose last check ended at a permanent redirect; `redirect_target` is where."""
    return _current(db, [Verdict.REDIRECTED], end)


def changed(db: Db) -> list[LinkChange]:
    """Links in a guide whose page counts as changed now, with the old and new title."""
    P = PageReference.__table__
    with reading(db) as conn:
        rows = conn.execute(
            select(R.c.id, R.c.url, P).join(P, P.c.resource_id == R.c.id)
            .where(R.c.verdict == Verdict.CHANGED.value, P.c.drift.is_not(None))
            .order_by(R.c.url)).all()
        where = places(conn, (row.id for row in rows))
    return [LinkChange(row.url, where[row.id], row.title, row.now_title, row.drift,
                       row.drifted_at) for row in rows if row.id in where]


def new_papers(db: Db, start: datetime, end: datetime) -> dict[str, list[Paper]]:
    """Papers that joined each topic in the period, newest published first."""
    P, PT = PaperRow.__table__, PaperTopic.__table__
    return _new_by_topic(db, start, end, P, PT, PT.c.paper_id,
                         (P.c.published.desc(), P.c.arxiv_id), paper_from)


def new_posts(db: Db, start: datetime, end: datetime) -> dict[str, list[Post]]:
    """Posts that joined each topic in the period, newest first (undated last)."""
    P, PT = PostRow.__table__, PostTopic.__table__
    return _new_by_topic(db, start, end, P, PT, PT.c.post_id,
                         (P.c.published.is_(None), P.c.published.desc(), P.c.url), post_from)


def _new_by_topic(db: Db, start: datetime, end: datetime, items: Any, link_table: Any,
                  key: Any, order: tuple[Any, ...],
                  build: Callable[[Any, tuple[str, ...]], Item]) -> dict[str, list[Item]]:
    """The items (papers or posts) that joined each topic in the period, in `order` within
    a topic, each built with every topic it is in."""
    topic = TopicRow.__table__
    with reading(db) as conn:
        rows = conn.execute(
            select(items, topic.c.name.label("topic")).join(link_table, key == items.c.id)
            .join(topic, topic.c.id == link_table.c.topic_id)
            .where(link_table.c.added_at >= start, link_table.c.added_at < end)
            .order_by(topic.c.name, *order)).all()
        topics = _topics_of(conn, link_table, key, [row.id for row in rows])
    news: dict[str, list[Item]] = defaultdict(list)
    for row in rows:
        news[row.topic].append(build(row, topics.get(row.id, ())))
    return dict(news)


def _topics_of(conn: Connection, link_table: object, key: object,
               ids: list[int]) -> dict[int, tuple[str, ...]]:
    T = TopicRow.__table__
    found: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        rows = conn.execute(select(key, T.c.name).join(T, T.c.id == link_table.c.topic_id)  # type: ignore[attr-defined]
                            .where(key.in_(ids[start : start + 500])).order_by(T.c.name))  # type: ignore[attr-defined]
        for item_id, name in rows:
            found[item_id].append(name)
    return {item_id: tuple(names) for item_id, names in found.items()}


def failed_sources(db: Db, start: datetime, end: datetime) -> list[SourceFailure]:
    """Source pulls that failed in the period, oldest first."""
    S = SourceRun.__table__
    with reading(db) as conn:
        rows = conn.execute(select(S).where(S.c.ok.is_(False), S.c.at >= start, S.c.at < end)
                            .order_by(S.c.at, S.c.source, S.c.id))
        return [SourceFailure(row.source, row.at, row.reason, row.run_id) for row in rows]


@dataclass(frozen=True, slots=True)
class StageRun:
    """One finished run of a stage in the period: what ran, when, how it ended."""

    kind: str
    started_at: datetime
    outcome: str


def stage_runs(db: Db, start: datetime, end: datetime) -> list[StageRun]:
    """Finished check and collect runs that started in the period, oldest first: what the
    digest's numbers rest on (an offline week checked nothing)."""
    T = RunRow.__table__
    with reading(db) as conn:
        rows = conn.execute(select(T.c.kind, T.c.started_at, T.c.outcome)
                            .where(T.c.kind.in_(("check", "collect")), T.c.outcome != "running",
                                   T.c.started_at >= start, T.c.started_at < end)
                            .order_by(T.c.started_at, T.c.id))
        return [StageRun(row.kind, row.started_at, row.outcome) for row in rows]


@dataclass(frozen=True, slots=True)
class DigestData:
    """Everything the digest needs about one period, in one call."""

    start: datetime
    end: datetime
    links_checked: int
    newly_broken: list[LinkIssue]
    still_broken: list[LinkIssue]
    fixed: list[LinkIssue]
    unverified: list[LinkIssue]
    flapping: list[LinkIssue]
    redirects: list[LinkIssue]
    papers: dict[str, list[Paper]]
    posts: dict[str, list[Post]]
    failed_sources: list[SourceFailure]
    runs: list[StageRun]
    changed: list[LinkChange] = field(default_factory=list)


def digest_data(db: Db, start: datetime, end: datetime) -> DigestData:
    return DigestData(
        start, end, links_checked(db, start, end), newly_broken(db, start, end),
        still_broken(db, start, end), fixed(db, start, end), unverified(db, end),
        flapping(db, end), permanent_redirects(db, end), new_papers(db, start, end),
        new_posts(db, start, end), failed_sources(db, start, end), stage_runs(db, start, end),
        changed(db))
