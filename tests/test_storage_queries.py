"""The read side: digest queries over a seeded history, and the `status`/`history` commands."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from linkfresh.cli import main
from linkfresh.collector.types import LinkState
from linkfresh.storage.digest_queries import digest_data
from linkfresh.storage.guide_links import sync_guide
from linkfresh.storage.runs import finish_run, record_batch, start_run
from linkfresh.storage.state import StateRules
from linkfresh.storage.status import link_history, status_summary
from tests.configs import write_config
from tests.storage_helpers import T0, database, guide, link, result

OKU, DEAD, BACK, OLD, WALL, MOVED, GONE = (f"https://{h}.example/" for h in
                                           ("ok", "dead", "back", "old", "wall", "moved", "gone"))
RULES = StateRules()
DAY = timedelta(days=1)


def seeded(db_url: str):  # type: ignore[no-untyped-def]
    """Two weeks of daily checks; the digest week is [T0+7d, T0+14d)."""
    engine = database(db_url)
    sync_guide(engine, guide(link(OKU, 3), link(DEAD, 5, text="Dead"), link(BACK, 7),
                             link(OLD, 9), link(WALL, 11), link(MOVED, 13), link(GONE, 15)), T0)
    plan = {
        OKU: lambda d: LinkState.OK,
        DEAD: lambda d: LinkState.BROKEN if d >= 9 else LinkState.OK,
        BACK: lambda d: LinkState.OK if d >= 10 else LinkState.BROKEN,
        OLD: lambda d: LinkState.BROKEN,
        WALL: lambda d: LinkState.UNVERIFIED,
        MOVED: lambda d: LinkState.REDIRECTED,
        GONE: lambda d: LinkState.BROKEN,
    }
    for day in range(14):
        at = T0 + day * DAY
        run_id = start_run(engine, "check", at)
        record_batch(engine, run_id, [
            result(url, state(day), at,
                   final_url="https://new.example/" if url == MOVED else None,
                   status={LinkState.UNVERIFIED: 429}.get(state(day),
                                                          200 if state(day) in
                                                          (LinkState.OK, LinkState.REDIRECTED)
                                                          else 404))
            for url, state in plan.items()], RULES)
        finish_run(engine, run_id, at + timedelta(minutes=5), "ok", {"checked": 7})
        if day == 3:  # GONE leaves the guide: never reported again
            sync_guide(engine, guide(link(OKU, 3), link(DEAD, 5, text="Dead"), link(BACK, 7),
                                     link(OLD, 9), link(WALL, 11), link(MOVED, 13)), at)
    return engine


def test_digest_queries(db_url: str) -> None:
    engine = seeded(db_url)
    start, end = T0 + 7 * DAY, T0 + 14 * DAY
    data = digest_data(engine, start, end)
    assert data.links_checked == 7  # counts what was checked, even GONE (not in the guide)
    [dead] = data.newly_broken
    assert dead.url == DEAD and dead.since == T0 + 9 * DAY and dead.still_broken
    assert dead.evidence is not None and dead.evidence.status == 404
    assert dead.evidence.checked_at == T0 + 10 * DAY  # the confirming check
    assert [(p.guide, p.line, p.text) for p in dead.links] == [("guide.md", 5, "Dead")]
    assert [i.url for i in data.still_broken] == [OLD]
    assert data.still_broken[0].duration == end - T0
    [back] = data.fixed
    assert back.url == BACK and back.broken_since == T0 + DAY and not back.still_broken
    assert [i.url for i in data.unverified] == [WALL]
    [moved] = data.redirects
    assert moved.redirect_target == "https://new.example/"
    assert data.papers == {} and data.posts == {} and data.failed_sources == []


def test_status_and_history(db_url: str) -> None:
    engine = seeded(db_url)
    now = T0 + 13 * DAY + timedelta(hours=1)
    summary = status_summary(engine, now, timedelta(hours=20))
    assert summary.verdicts == {"broken": 2, "ok": 2, "redirected": 1, "unverified": 1}
    assert summary.due_now == 2  # the broken ones: always rechecked
    assert summary.runs[0].started_at == T0 + 13 * DAY and len(summary.runs) == 10
    assert [(g.active_links, g.retired_links) for g in summary.guides] == [(6, 1)]
    history = link_history(engine, BACK)
    assert history is not None
    assert [e.event for e in history.entries if e.event] == ["failing", "broken", "fixed"]


@pytest.fixture
def config(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    seeded(db_url).dispose()
    return write_config(tmp_path, fast=False, database=db_url)


def test_status_command(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["--config", str(config), "status"])
    assert ended.value.code in (0, None)
    out = capsys.readouterr().out
    assert "broken      2" in out and "guide.md: 6 links in the guide, 1 retired" in out


def test_history_command(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["--config", str(config), "history", DEAD])
    assert ended.value.code in (0, None)
    out = capsys.readouterr().out
    assert "state: broken since 2026-03-12 06:00 UTC" in out
    assert "guide.md:5 Phase 1 > Step 1: [Dead]" in out and "[broken]" in out


def test_history_of_an_unknown_url_is_exit_2(config: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["--config", str(config), "history", "https://nowhere.example/"])
    assert ended.value.code == 2
    assert "not in the database" in capsys.readouterr().err
