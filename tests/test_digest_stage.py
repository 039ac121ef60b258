"""The application's mapping from storage's findings to the digest model (pure parts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from linkfresh.collector.guide.parse import parse_guide
from linkfresh.collector.types import CheckResult, Hop, LinkState
from linkfresh.reports.digest_model import GuidePlace, LinkUpdate, UpdateKind
from linkfresh.stages.digest_build import (
    digest_period,
    merged_updates,
    moved_to,
    parse_moment,
    wrapper_updates,
)
from linkfresh.storage.values import LinkIssue

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def issue(chain: tuple[Hop, ...], target: str | None) -> LinkIssue:
    result = CheckResult("https://a.example/deep/page", LinkState.BROKEN, NOW, status=404,
                         final_url=target, chain=chain)
    return LinkIssue(result.url, "broken", (), result, NOW, redirect_target=target)


@pytest.mark.parametrize(
    ("chain", "target", "moved"),
    [
        ((Hop("https://a.example/deep/page", 301, "https://b.example/new"),),
         "https://b.example/new", "https://b.example/new"),
        ((Hop("https://a.example/deep/page", 308, "/x"), Hop("https://a.example/x", 301, "/y")),
         "https://a.example/y", "https://a.example/y"),
        ((Hop("https://a.example/deep/page", 302, "/tmp"),), "https://a.example/tmp", None),
        ((Hop("https://a.example/deep/page", 301, "/"),), "https://a.example/", None),
        ((), None, None),
    ],
    ids=["permanent", "permanent-chain", "temporary", "to-root", "none"],
)
def test_moved_to_only_follows_permanent_redirects(
    chain: tuple[Hop, ...], target: str | None, moved: str | None
) -> None:
    assert moved_to(issue(chain, target)) == moved


def test_wrapper_updates_group_by_written_url() -> None:
    wrapped = "https://www.google.com/url?q=https://x.example/a"
    guide = parse_guide(f"# G\n\n[a]({wrapped})\n\n[b]({wrapped})\n\n[c](https://y.example/)\n")
    (update,) = wrapper_updates([guide])
    assert (update.kind, update.old, update.new, update.via) == (
        UpdateKind.WRAPPER, wrapped, "https://x.example/a", "google-url")
    assert [place.line for place in update.places] == [3, 5]


def test_a_wrapped_link_that_moved_is_one_update_straight_to_the_new_place() -> None:
    wrapped = "https://www.google.com/url?q=https://x.example/a"
    guide = parse_guide(f"# G\n\n[a]({wrapped})\n\n[b](https://x.example/a)\n\n"
                        f"[c](https://www.google.com/url?q=https://y.example/)\n")
    # As storage reports it: every place the moved target is written, wrapped or not.
    places = GuidePlace.of(link for link in guide.links if link.target == "https://x.example/a")
    redirect = LinkUpdate(UpdateKind.REDIRECT, "https://x.example/a", "https://x.example/b",
                          places, "301")
    updates = merged_updates(wrapper_updates([guide]), [redirect])
    assert [(u.kind, u.new, u.via, [p.line for p in u.places]) for u in updates] == [
        (UpdateKind.WRAPPER, "https://x.example/b", "google-url, then 301", [3]),
        (UpdateKind.WRAPPER, "https://y.example/", "google-url", [7]),
        (UpdateKind.REDIRECT, "https://x.example/b", "301", [5]),  # written plainly there
    ]


def test_periods() -> None:
    assert parse_moment("7d", NOW) == NOW - timedelta(days=7)
    assert parse_moment("12h", NOW) == NOW - timedelta(hours=12)
    assert parse_moment("2026-11-23", NOW) == datetime(2026, 11, 23, tzinfo=UTC)
    assert digest_period("2026-11-23", "2026-11-29", NOW) == (
        datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))
    with pytest.raises(ValueError, match="neither a span"):
        parse_moment("last week", NOW)
    with pytest.raises(ValueError, match="the period is empty"):
        digest_period("2026-11-29", "2026-11-20", NOW)
