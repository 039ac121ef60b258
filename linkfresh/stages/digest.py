"""The digest stage: what the database knows of a period -> a `Digest` -> its files."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Engine

from linkfresh.collector.news.relevance import profiles
from linkfresh.collector.types import Guide
from linkfresh.context import AppContext, is_bundled, load_and_warn, write_atomically
from linkfresh.exitcodes import Fail
from linkfresh.failures import os_failure
from linkfresh.stages.collect import configured_feeds, configured_topics
from linkfresh.stages.daily_papers_lookup import daily_picks
from linkfresh.stages.digest_build import (
    Matches,
    Snapshots,
    digest_files,
    make_digest,
    moved_to,
)
from linkfresh.stages.wayback_lookup import snapshots_for
from linkfresh.storage.digest_queries import DigestData, digest_data
from linkfresh.storage.runs import RunOutcome, recorded_run
from linkfresh.storage.sources import load_resource_matches


class DigestFormat(StrEnum):
    MARKDOWN = "markdown"
    JSON = "json"


def digest_stage(
    app: AppContext, engine: Engine, start: datetime, end: datetime, *,
    fmt: DigestFormat = DigestFormat.MARKDOWN, output: Path | None = None, force: bool = False,
    parsed: Sequence[Guide] | None = None,
) -> Path:
    """Build, render and write the digest for [start, end); record the run. Returns the path."""
    with recorded_run(engine, "digest", end) as run:
        guides = list(parsed) if parsed is not None else load_and_warn(app, None)
        data = digest_data(engine, start, end)
        every_topic = configured_topics(app, guides)
        topics = [topic.name for topic in every_topic]
        snapshots, matches = _broken_link_help(app, engine, data, end)
        feed_urls = {feed.name: feed.url for feed in configured_feeds(app)}
        read_only = all(is_bundled(path) for path in app.guide_paths(None))
        picks, picks_failed = daily_picks(app, start, end, bool(data.papers))
        digest = make_digest(data, guides, topics, per_topic=app.settings.digest.per_topic,
                             snapshots=snapshots, matches=matches, feed_urls=feed_urls,
                             read_only=read_only, relevance=profiles(every_topic),
                             notable=picks, more_failed=[picks_failed] if picks_failed else [])
        files = digest_files(digest, str(fmt), app.resolve(app.settings.reports_dir), output)
        if (files.path.is_file() and not force
                and files.path.read_text(encoding="utf-8", errors="replace") != files.text):
            raise Fail(f"{files.path} already exists; use --force to overwrite it")
        what = "--output" if output is not None else "reports_dir:"
        try:
            files.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise os_failure(error, f"{what} {files.path.parent}: cannot create") from None
        write_atomically(files.path, files.text.encode("utf-8"), what)
        if files.latest is not None:
            write_atomically(files.latest, files.text.encode("utf-8"), what)
        run.outcome = RunOutcome.OK
    return files.path


def _broken_link_help(
    app: AppContext, engine: Engine, data: DigestData, now: datetime
) -> tuple[Snapshots, Matches]:
    """Web Archive snapshots for broken links with no redirect to follow (looked up only
    for those, and cached), and the arXiv matches `collect` found for unlinked resources."""
    broken = [issue for issue in (*data.newly_broken, *data.still_broken)
              if not moved_to(issue)]
    near = {issue.url: issue.since for issue in broken if issue.since is not None}
    snapshots = snapshots_for(app, engine, [issue.url for issue in broken], now, near=near)
    return snapshots, load_resource_matches(engine)
