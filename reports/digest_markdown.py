"""Rendering a `Digest` as markdown: the sections in order, every web string escaped.

No clock and no I/O: the same `Digest` always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time
from typing import TypeVar

from linkfresh.reports.digest_model import (
    BrokenLink,
    Capped,
    ChangedLink,
    Coverage,
    Digest,
    FailedSource,
    FixedLink,
    GuidePlace,
    LinkUpdate,
    PaperItem,
    PostItem,
    SuggestionKind,
    TopicNews,
    UnlinkedResource,
    UnverifiedLink,
    UpdateKind,
)
from linkfresh.reports.escape import escape_text, md_code, md_link, md_url

COPY_GUIDE_COMMAND = "linkfresh init --copy-guide"
TITLE_LIMIT = 140
TEXT_LIMIT = 110
PLACES_SHOWN = 3
MENTIONS_SHOWN = 5
_DASH = " — "

T = TypeVar("T")


def render_digest_markdown(digest: Digest) -> str:
    """The digest as markdown: headline always, then each non-empty section in order."""
    many_guides = len(digest.guides) > 1
    parts = [_headline(digest)]
    if digest.newly_broken:
        parts.append(_section("Newly broken", len(digest.newly_broken),
                              [_newly_broken(item, many_guides) for item in digest.newly_broken]))
    if digest.still_broken:
        parts.append(_capped("Still broken", digest.still_broken,
                             lambda item: _still_broken(item, many_guides)))
    if digest.fixed:
        parts.append(_capped("Fixed since the last digest", digest.fixed,
                             lambda item: _fixed(item, many_guides)))
    if digest.to_update:
        intro = (f"Apply them with {md_code(digest.fix_command)}; without `--write` it prints "
                 "the diff and changes nothing.")
        if digest.guide_read_only:
            intro = (f"The bundled guide is read-only: {md_code(COPY_GUIDE_COMMAND)} writes an "
                     "editable copy and a `linkfresh.toml` that uses it; then apply them with "
                     f"{md_code(digest.fix_command)} (without `--write` it prints the diff "
                     "and changes nothing).")
        parts.append(_capped("To update", digest.to_update,
                             lambda item: _update(item, many_guides), intro))
    if digest.unverified:
        intro = "Bot walls and rate limits: not proven dead, never counted as broken."
        parts.append(_capped("Unverified", digest.unverified,
                             lambda item: _unverified(item, many_guides), intro))
    if digest.changed:
        intro = ("The page answers, but is no longer what the guide linked; never counted as "
                 "broken. `linkfresh accept URL` takes the new page as the reference.")
        parts.append(_capped("Changed since it was added", digest.changed,
                             lambda item: _changed(item, many_guides), intro))
    if digest.topics:
        json_name = f"digest-{digest.week}.json"
        topics = "\n\n".join(_topic(news, json_name) for news in digest.topics)
        parts.append(f"## New on each topic\n\n{topics}")
    if digest.unlinked:
        parts.append(_section("Resources named without a link", len(digest.unlinked),
                              [_unlinked(item, many_guides) for item in digest.unlinked]))
    if digest.failed_sources:
        intro = "Nothing new from these may just mean they could not be read."
        parts.append(_section("Sources that failed", len(digest.failed_sources),
                              [_failed(item) for item in digest.failed_sources], intro))
    return "\n\n".join(parts) + "\n"


def _headline(digest: Digest) -> str:
    numbers = digest.headline
    guides = ", ".join(md_code(guide) for guide in digest.guides) or "no guide"
    label = "Guides" if len(digest.guides) > 1 else "Guide"
    period = f"{_moment(digest.period.start)} to {_moment(digest.period.end)} UTC"
    checked: int | str = numbers.links_checked
    if digest.coverage is not None and digest.coverage.network_down and not checked:
        checked = "none (network down)"
    cells = [
        ("Links checked", checked), ("Broken", numbers.broken),
        ("Newly broken", numbers.newly_broken), ("Fixed", numbers.fixed),
        ("To update", numbers.to_update), ("Unverified", numbers.unverified),
        ("New papers", numbers.new_papers), ("New posts", numbers.new_posts),
        ("Sources failed", numbers.sources_failed),
    ]
    table = "\n".join([
        "| " + " | ".join(name for name, _ in cells) + " |",
        "|" + "---:|" * len(cells),
        "| " + " | ".join(str(value) for _, value in cells) + " |",
    ])
    note = _coverage_note(digest.coverage)
    head = f"# Link digest {digest.week}\n\n{label}: {guides} · {period}\n\n{table}"
    return head + (f"\n\n{note}" if note else "")


def _coverage_note(coverage: Coverage | None) -> str:
    """What did not run (or could not reach the web) in the period; "" when all ran."""
    if coverage is None:
        return ""
    lines = []
    if coverage.network_down and coverage.last_check_at is not None:
        lines.append(f"> **The network was down** at the last check "
                     f"({_moment(coverage.last_check_at)} UTC): no host could be reached, so "
                     "no link was checked and none is marked broken; the lists below come "
                     "from earlier checks.")
        if coverage.collection_skipped:
            lines.append("> Skipped: the collection of new papers and posts (it runs again "
                         "once the network is back).")
    elif coverage.checks == 0:
        lines.append("> **No link check ran** in this period; the lists below come from "
                     "earlier checks.")
    if coverage.collections == 0 and not coverage.collection_skipped:
        lines.append("> **No collection ran** in this period, so no new papers or posts "
                     "are listed.")
    return "\n>\n".join(lines)


def _section(title: str, count: int, items: Sequence[str], intro: str = "") -> str:
    head = f"## {title} ({count})\n\n" + (f"{intro}\n\n" if intro else "")
    return head + "\n".join(items)


def _capped(title: str, capped: Capped[T], line: Callable[[T], str], intro: str = "") -> str:
    items = [line(item) for item in capped.items]
    if capped.more:
        items.append(f"- … and {capped.more} more")
    return _section(title, len(capped.items) + capped.more, items, intro)


def _moment(moment: datetime) -> str:
    moment = moment.astimezone(UTC) if moment.tzinfo else moment
    if moment.time() == time(0, 0):
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%d %H:%M")


def _day(moment: datetime) -> str:
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date().isoformat()


def _where(places: Sequence[GuidePlace], many_guides: bool) -> str:
    shown = []
    for place in places[:PLACES_SHOWN]:
        guide = f"{md_code(place.guide)} " if many_guides else ""
        section = f" ({escape_text(place.section[-1], limit=80)})" if place.section else ""
        shown.append(f"{guide}line {place.line}{section}")
    if len(places) > PLACES_SHOWN:
        more = len(places) - PLACES_SHOWN
        shown.append(f"and {more} more {'place' if more == 1 else 'places'}")
    return "; ".join(shown) or "not in the guide any more"


def _newly_broken(item: BrokenLink, many_guides: bool) -> str:
    lines = [
        f"- {md_url(item.url)}{_DASH}{escape_text(item.what, limit=TEXT_LIMIT)} "
        f"since {_day(item.since)}",
        f"  - where: {_where(item.places, many_guides)}",
    ]
    replacement = _replacement(item) or "none found (no redirect, no Web Archive snapshot)"
    lines.append(f"  - replacement: {replacement}")
    return "\n".join(lines)


def _replacement(item: BrokenLink) -> str:
    """The suggested replacement for a broken link, or "" when there is none."""
    suggestion = item.suggestion
    if suggestion is None:
        return ""
    if suggestion.kind is SuggestionKind.REDIRECT:
        return f"moved permanently to {md_url(suggestion.url)}"
    captured = f" of {suggestion.captured.isoformat()}" if suggestion.captured else ""
    return md_link(f"Web Archive copy{captured}", suggestion.url)


def _still_broken(item: BrokenLink, many_guides: bool) -> str:
    days = "1 day" if item.days == 1 else f"{item.days} days"
    # A link broken for weeks needs its replacement as much as a new one does.
    replacement = f"; replacement: {found}" if (found := _replacement(item)) else ""
    return (f"- {md_url(item.url)}{_DASH}{escape_text(item.what, limit=TEXT_LIMIT)} for {days} "
            f"(since {_day(item.since)}); {_where(item.places, many_guides)}{replacement}")


def _fixed(item: FixedLink, many_guides: bool) -> str:
    since = f", broken since {_day(item.broken_since)}" if item.broken_since else ""
    return (f"- {md_url(item.url)}{_DASH}answers again on {_day(item.fixed_at)}{since}; "
            f"{_where(item.places, many_guides)}")


def _update(item: LinkUpdate, many_guides: bool) -> str:
    match item.kind:
        case UpdateKind.WRAPPER:
            how = f"unwrap ({escape_text(item.via)})" if item.via else "unwrap"
            return f"- {_where(item.places, many_guides)}: {how} to {md_url(item.new)}"
        case UpdateKind.REDIRECT:
            how = f"moved ({escape_text(item.via)})" if item.via else "moved"
            return (f"- {_where(item.places, many_guides)}: {how} {md_url(item.old)} "
                    f"→ {md_url(item.new)}")


def _unverified(item: UnverifiedLink, many_guides: bool) -> str:
    status = f"HTTP {item.status}, " if item.status is not None else ""
    return (f"- {md_url(item.url)}{_DASH}{status}{escape_text(item.reason, limit=TEXT_LIMIT)}; "
            f"{_where(item.places, many_guides)}")


def _changed(item: ChangedLink, many_guides: bool) -> str:
    old = escape_text(item.old_title or "(no title)", limit=TEXT_LIMIT)
    new = escape_text(item.new_title or "(no title)", limit=TEXT_LIMIT)
    since = f" since {_day(item.since)}" if item.since else ""
    return (f"- {md_url(item.url)}{_DASH}{escape_text(item.reason, limit=TEXT_LIMIT)}{since}\n"
            f"  - was: {old}\n  - now: {new}\n  - where: {_where(item.places, many_guides)}")


def _why(terms: Sequence[str]) -> str:
    """Why an item is listed: the terms that earned its score (from the config, escaped)."""
    if not terms:
        return ""
    return f" · why: {escape_text(', '.join(terms), limit=TEXT_LIMIT)}"


def _paper(item: PaperItem) -> str:
    authors = ", ".join(escape_text(author, limit=60) for author in item.authors)
    if item.more_authors:
        authors += " et al."
    by = f"{_DASH}{authors}" if authors else ""
    picked = ""
    if item.upvotes is not None:
        votes = f", {item.upvotes} upvote{'s' if item.upvotes != 1 else ''}"
        picked = f" · picked on Hugging Face daily papers{votes}"
    return (f"- {md_link(item.title, item.abs_url, limit=TITLE_LIMIT)}{by} ({item.published})"
            f"{_why(item.why)}{picked}")


def _post(item: PostItem) -> str:
    when = f" ({item.published.isoformat()})" if item.published else ""
    source = f"{_DASH}{escape_text(item.source, limit=60)}" if item.source else ""
    return f"- {md_link(item.title, item.url, limit=TITLE_LIMIT)}{source}{when}{_why(item.why)}"


def _topic(news: TopicNews, json_name: str) -> str:
    blocks = [f"### {escape_text(news.topic, limit=80)}"]
    for label, items, more, total in (
        ("Papers", [_paper(p) for p in news.papers], news.more_papers, news.total_papers),
        ("Posts", [_post(p) for p in news.posts], news.more_posts, news.total_posts),
    ):
        if not total:
            continue
        if not items:  # nothing shown here (items that fit no topic): say where they are
            blocks.append(f"{label}: {total}, listed in the JSON digest ({md_code(json_name)}).")
            continue
        noun = label.lower() if more > 1 else label.lower().removesuffix("s")
        tail = [f"- … and {more} more {noun} in the JSON digest ({md_code(json_name)})"]
        heading = f"{label} ({len(items)} of {total}, best first)" if more else label
        blocks.append(f"{heading}:\n\n" + "\n".join(items + (tail if more else [])))
    if news.mentions:
        shown = [f"{md_link(m.title, m.url, limit=100)} (under {escape_text(m.listed_under)})"
                 for m in news.mentions[:MENTIONS_SHOWN]]
        left = len(news.mentions) - len(shown)
        blocks.append("Also relevant, listed under another topic: " + "; ".join(shown)
                      + (f"; and {left} more" if left > 0 else "") + ".")
    return "\n\n".join(blocks)


def _unlinked(item: UnlinkedResource, many_guides: bool) -> str:
    line = (f"- {_where((item.place,), many_guides)}, {escape_text(item.kind, limit=40)}: "
            f"{escape_text(item.text, limit=TEXT_LIMIT)}")
    if item.suggestion is not None:
        line += f"{_DASH}maybe {md_link(item.suggestion.title, item.suggestion.url, limit=100)}"
    return line


def _failed(item: FailedSource) -> str:
    name = md_link(item.name, item.url, limit=60) if item.url else escape_text(item.name, limit=60)
    kind = f"{escape_text(item.kind)} " if item.kind else ""
    return f"- {kind}{name}: {escape_text(item.reason or 'failed', limit=TEXT_LIMIT)}"
