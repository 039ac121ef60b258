"""Building the digest: storage's findings for a period -> `reports.Digest` -> files.

Storage answers in its own plain values (`LinkIssue`, `SourceFailure`); `reports` cannot
import them, so the mapping into the digest model lives here, in the application.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from linkfresh.collector.news.relevance import Profile
from linkfresh.collector.types import Guide, LinkKind
from linkfresh.reports.digest import build_digest, render_digest_json, render_digest_markdown
from linkfresh.reports.digest_model import (
    BrokenLink,
    ChangedLink,
    Coverage,
    Digest,
    FailedSource,
    FixedLink,
    GuidePlace,
    LinkUpdate,
    PaperMatch,
    Period,
    Suggestion,
    SuggestionKind,
    UnverifiedLink,
    UpdateKind,
    describe,
    unlinked_resources,
)
from linkfresh.storage.digest_queries import DigestData, StageRun
from linkfresh.storage.values import LinkChange, LinkIssue, SourceFailure

Snapshots = Mapping[str, tuple[str, date | None]]  # url -> (snapshot url, captured on)
Matches = Mapping[str, tuple[str, str]]  # resource text -> (paper title, url)


def moved_to(issue: LinkIssue) -> str | None:
    """Where a broken link moved, if only permanent redirects (301/308) led there.

    A temporary redirect proves nothing, and a deep link sent to the site root is a soft 404,
    not a new home.
    """
    evidence = issue.evidence
    if not (issue.redirect_target and evidence and evidence.chain):
        return None
    if not all(hop.status in (301, 308) for hop in evidence.chain):
        return None
    return None if urlsplit(issue.redirect_target).path in ("", "/") else issue.redirect_target


def _suggestion(issue: LinkIssue, snapshots: Snapshots) -> Suggestion | None:
    if target := moved_to(issue):
        return Suggestion(SuggestionKind.REDIRECT, target)
    if issue.url in snapshots:
        url, captured = snapshots[issue.url]
        return Suggestion(SuggestionKind.ARCHIVE, url, captured)
    return None


def broken_link(issue: LinkIssue, snapshots: Snapshots) -> BrokenLink:
    evidence = issue.evidence
    status = evidence.status if evidence else None
    error = (evidence.error or evidence.detail) if evidence else None
    if error == f"HTTP {status}":  # the checker words a bare status so; say it once
        error = None
    return BrokenLink(
        url=issue.url,
        places=GuidePlace.of(issue.links),
        state=str(evidence.state) if evidence else issue.verdict,
        since=issue.since or (evidence.checked_at if evidence else datetime.min),
        status=status,
        error=error,
        suggestion=_suggestion(issue, snapshots),
    )


def changed_link(change: LinkChange) -> ChangedLink:
    return ChangedLink(change.url, GuidePlace.of(change.links), change.old_title,
                       change.new_title, change.reason, change.since)


def fixed_link(issue: LinkIssue) -> FixedLink:
    at = issue.evidence.checked_at if issue.evidence else issue.since
    return FixedLink(issue.url, GuidePlace.of(issue.links), at or datetime.min,
                     issue.broken_since)


def unverified_link(issue: LinkIssue, *, flapping: bool = False) -> UnverifiedLink:
    evidence = issue.evidence
    status = evidence.status if evidence else None
    if flapping:
        reason = "flapping: it fails now and then, and recovers"
    elif evidence is not None:
        reason = evidence.detail or describe(status, evidence.error, str(evidence.state))
    else:
        reason = issue.verdict
    return UnverifiedLink(issue.url, GuidePlace.of(issue.links), reason, status)


def redirect_update(issue: LinkIssue) -> LinkUpdate | None:
    if not issue.redirect_target:
        return None
    status = issue.evidence.chain[0].status if issue.evidence and issue.evidence.chain else None
    old = issue.links[0].target if issue.links else issue.url
    return LinkUpdate(UpdateKind.REDIRECT, old, issue.redirect_target,
                      GuidePlace.of(issue.links), str(status or "permanent"))


def wrapper_updates(guides: Iterable[Guide]) -> list[LinkUpdate]:
    """Wrapper links still written in the guides, one update per written URL."""
    by_written: dict[str, list] = {}
    for guide in guides:
        for link in guide.links:
            if link.is_wrapped and link.kind is LinkKind.HTTP:
                by_written.setdefault(link.written_url, []).append(link)
    return [
        LinkUpdate(UpdateKind.WRAPPER, written, links[0].target, GuidePlace.of(links),
                   "+".join(links[0].unwrapped_by))
        for written, links in by_written.items()
    ]


def merged_updates(
    wrappers: Sequence[LinkUpdate], redirects: Sequence[LinkUpdate]
) -> list[LinkUpdate]:
    """One update per place written: a wrapped link whose target moved for good is unwrapped
    straight to where it moved; the redirect stays listed only for places that wrote the
    target itself (what `fix --write` does in one go, the digest shows as one line)."""
    moved = {update.old: update for update in redirects}
    covered: dict[str, set[GuidePlace]] = {}
    merged: list[LinkUpdate] = []
    for wrapper in wrappers:
        redirect = moved.get(wrapper.new)
        if redirect is None:
            merged.append(wrapper)
            continue
        via = ", then ".join(part for part in (wrapper.via, redirect.via) if part)
        merged.append(replace(wrapper, new=redirect.new, via=via))
        covered.setdefault(redirect.old, set()).update(wrapper.places)
    for redirect in redirects:
        places = tuple(p for p in redirect.places if p not in covered.get(redirect.old, set()))
        if places:
            merged.append(replace(redirect, places=places))
    return merged


def failed_source(failure: SourceFailure, times: int = 1, url: str | None = None) -> FailedSource:
    """One line per source: arXiv runs are stored as `arxiv:<topic>`, shown as the topic."""
    is_arxiv = failure.source.startswith("arxiv:")
    name = failure.source.removeprefix("arxiv:") if is_arxiv else failure.source
    reason = failure.reason or "failed"
    if times > 1:
        reason += f" (failed {times} times)"
    return FailedSource("arxiv" if is_arxiv else "feed", name, reason,
                        None if is_arxiv else url)


def failed_sources(
    failures: Iterable[SourceFailure], feed_urls: Mapping[str, str] | None = None
) -> list[FailedSource]:
    """Each failing source once, with its latest reason: a feed that failed on every collect
    of the week is one source failed, not one per run. `feed_urls` (name -> configured URL)
    lets the reader open a failed feed."""
    by_source: dict[str, list[SourceFailure]] = {}
    for failure in sorted(failures, key=lambda failure: failure.at):
        by_source.setdefault(failure.source, []).append(failure)
    urls = feed_urls or {}
    return [failed_source(runs[-1], len(runs), urls.get(source))
            for source, runs in by_source.items()]


def make_digest(
    data: DigestData,
    guides: Sequence[Guide],
    topics: Sequence[str],
    *,
    per_topic: int,
    snapshots: Snapshots | None = None,
    matches: Matches | None = None,
    feed_urls: Mapping[str, str] | None = None,
    read_only: bool = False,
    relevance: Sequence[Profile] | None = None,
    notable: Mapping[str, int] | None = None,
    more_failed: Sequence[FailedSource] = (),
) -> Digest:
    """The digest for `data`'s period (pure: `now` is the period's end, for same bytes).
    `read_only`: the guide cannot be fixed in place (the bundled one)."""
    snapshots, matches = snapshots or {}, matches or {}
    redirects = [update for issue in data.redirects if (update := redirect_update(issue))]
    unlinked = [
        replace(item, suggestion=PaperMatch(*matches[item.text])) if item.text in matches else item
        for guide in guides
        for item in unlinked_resources(guide)
    ]
    return build_digest(
        period=Period(data.start, data.end),
        now=data.end,
        guides=[guide.path for guide in guides],
        links_checked=data.links_checked,
        newly_broken=[broken_link(issue, snapshots) for issue in data.newly_broken],
        still_broken=[broken_link(issue, snapshots) for issue in data.still_broken],
        fixed=[fixed_link(issue) for issue in data.fixed],
        to_update=merged_updates(wrapper_updates(guides), redirects),
        unverified=[unverified_link(issue) for issue in data.unverified]
        + [unverified_link(issue, flapping=True) for issue in data.flapping],
        papers=data.papers,
        posts=data.posts,
        topics=topics,
        unlinked=unlinked,
        failed_sources=[*failed_sources(data.failed_sources, feed_urls), *more_failed],
        changed=[changed_link(change) for change in data.changed],
        per_topic=per_topic,
        coverage=coverage(data.runs),
        guide_read_only=read_only,
        relevance=relevance,
        notable=notable,
    )


def coverage(runs: Sequence[StageRun]) -> Coverage:
    """How many checks and collections ran in the period, and how the last of each ended."""
    checks = [run for run in runs if run.kind == "check"]
    collects = [run for run in runs if run.kind == "collect"]
    last_check = checks[-1] if checks else None
    last_collect = collects[-1] if collects else None
    return Coverage(
        checks=len(checks),
        last_check_at=last_check.started_at if last_check else None,
        last_check=last_check.outcome if last_check else None,
        collections=len(collects),
        last_collect_at=last_collect.started_at if last_collect else None,
        last_collect=last_collect.outcome if last_collect else None,
    )


@dataclass(frozen=True)
class DigestFiles:
    """The rendered digest and where it goes."""

    text: str
    path: Path
    latest: Path | None


def digest_files(digest: Digest, fmt: str, reports_dir: Path, output: Path | None) -> DigestFiles:
    """Render `digest` and name its files: `digest-YYYY-Www.<ext>` and `latest.<ext>`."""
    extension = "json" if fmt == "json" else "md"
    text = render_digest_json(digest) if fmt == "json" else render_digest_markdown(digest)
    if output is not None:
        return DigestFiles(text, output, None)
    return DigestFiles(text, reports_dir / f"digest-{digest.week}.{extension}",
                       reports_dir / f"latest.{extension}")


_UNITS = {"h": 3600, "d": 86400, "w": 7 * 86400}


def parse_moment(value: str, now: datetime, *, end_of_day: bool = False) -> datetime:
    """`7d`/`12h`/`2w` before `now`, or an ISO date/time (UTC unless it says otherwise).

    A bare date as an end means the end of that day, so `--until 2026-11-29` includes it.
    """
    value = value.strip()
    if value[:-1].isdigit() and value[-1:].lower() in _UNITS:
        return now - timedelta(seconds=int(value[:-1]) * _UNITS[value[-1].lower()])
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is neither a span like 7d/12h/2w nor a date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if end_of_day and len(value) == 10:
        moment += timedelta(days=1)
    return moment


def digest_period(since: str, until: str | None, now: datetime) -> tuple[datetime, datetime]:
    start = parse_moment(since, now)
    end = parse_moment(until, now, end_of_day=True) if until else now
    if start >= end:
        raise ValueError(f"the period is empty: {start:%Y-%m-%d %H:%M} is not before "
                         f"{end:%Y-%m-%d %H:%M}")
    return start, end
