"""Occurrences across guide edits, incremental due selection, validators, batches, thinning."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, event, func, select

from linkfresh.collector.types import LinkKind, LinkSource, LinkState
from linkfresh.storage.guide_links import (
    _DESCRIBED,
    last_elapsed,
    links_digest,
    sync_guide,
    validators,
)
from linkfresh.storage.history import check_history
from linkfresh.storage.models import Occurrence, ResultRow
from linkfresh.storage.references import page_references
from linkfresh.storage.runs import ResultWriter, record_batch, start_run, thin
from linkfresh.storage.state import StateRules
from linkfresh.storage.status import link_history
from tests.storage_helpers import T0, database, guide, hours, intact, link, result

A, B, C = "https://a.example/x", "https://b.example/y", "https://c.example/z"
RULES = StateRules()
RECHECK = timedelta(hours=20)


def due_urls(engine: Engine, now: datetime, recheck_after: timedelta, *, full: bool = False,
             guides: list[str] | None = None) -> list[str]:
    """The URLs the next check fetches, sorted."""
    return sorted(check_history(engine, now, recheck_after, full=full, guides=guides).due)


def test_removed_links_are_retired_and_readded_ones_keep_history(db_url: str) -> None:
    engine = database(db_url)
    first = sync_guide(engine, guide(link(A, 3), link(B, 5)), T0)
    assert (first.added, first.retired) == (2, 0)
    record_batch(engine, None, [result(B, LinkState.BROKEN, T0)], RULES)
    second = sync_guide(engine, guide(link(A, 4)), T0 + hours(1))
    assert (second.kept, second.retired) == (1, 1)
    history = link_history(engine, B)
    assert history is not None and history.places[0].retired_at == T0 + hours(1)
    assert due_urls(engine, T0 + hours(2), RECHECK) == [A]  # retired B is not checked
    third = sync_guide(engine, guide(link(A, 4), link(B, 9)), T0 + hours(2))
    assert (third.revived, third.added) == (1, 0)
    history = link_history(engine, B)
    assert history is not None and history.verdict == "failing" and len(history.entries) == 1
    assert history.places[0].retired_at is None and history.places[0].link.line == 9


def test_a_resync_moves_last_seen_and_rewrites_only_what_changed(db_url: str) -> None:
    engine = database(db_url)
    sync_guide(engine, guide(link(A, 3), link(B, 5)), T0)
    again = sync_guide(engine, guide(link(A, 3), link(B, 6)), T0 + hours(1))
    assert (again.kept, again.added, again.retired, again.revived) == (2, 0, 0, 0)
    with engine.connect() as conn:
        rows = dict(conn.execute(select(Occurrence.target, Occurrence.line)).all())
        seen = set(conn.execute(select(Occurrence.last_seen)).scalars())
    assert rows == {A: 3, B: 6}
    assert seen == {T0 + hours(1)}


def test_an_unchanged_guide_is_not_diffed_again(db_url: str) -> None:
    """The same links as last time: one UPDATE of `last_seen` for the places still in the
    guide, instead of reading every occurrence back; a retired place stays retired."""
    engine = database(db_url)
    sync_guide(engine, guide(link(A, 3), link(B, 5)), T0)
    sync_guide(engine, guide(link(A, 3)), T0 + hours(1))  # B leaves the guide
    statements: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
        statements.append(sql.split()[0].upper())

    event.listen(engine, "before_cursor_execute", count)
    again = sync_guide(engine, guide(link(A, 3)), T0 + hours(2))
    event.remove(engine, "before_cursor_execute", count)
    assert (again.kept, again.added, again.retired, again.revived) == (1, 0, 0, 0)
    assert statements.count("SELECT") == 1  # the guide row only
    with engine.connect() as conn:
        seen = dict(conn.execute(select(Occurrence.target, Occurrence.last_seen)).all())
        retired = dict(conn.execute(select(Occurrence.target, Occurrence.retired_at)).all())
    assert seen == {A: T0 + hours(2), B: T0}
    assert retired == {A: None, B: T0 + hours(1)}
    edited = sync_guide(engine, guide(link(A, 4)), T0 + hours(3))  # a change is diffed
    assert (edited.kept, edited.added) == (1, 0)
    with engine.connect() as conn:
        assert conn.execute(select(Occurrence.line).where(Occurrence.target == A)
                            ).scalar_one() == 4


def test_the_links_digest_covers_every_stored_column() -> None:
    """An unchanged digest skips the diff, so a change to any stored field must change it;
    where a link stands in the text (`span`) is not stored, and does not."""
    base = link(A, 3)
    changed = {"url": B, "written_url": "http://wrap/?u=x", "target": B, "text": "other",
               "line": 4, "section": ("Phase 2",), "kind": LinkKind.RELATIVE,
               "source": LinkSource.REFERENCE, "unwrapped_by": ("google-url",),
               "flags": ("raw-space",), "disabled": True}
    assert set(changed) == {"url", "written_url", *_DESCRIBED}
    digest = links_digest([base])
    for name, value in changed.items():
        assert links_digest([replace(base, **{name: value})]) != digest, name
    assert links_digest([replace(base, span=(10, 40))]) == digest
    assert links_digest([base, link(B)]) != links_digest([link(B), base])


def test_same_url_written_twice_gets_two_places(db_url: str) -> None:
    engine = database(db_url)
    sync_guide(engine, guide(link(A, 1), link(A, 7), link(A, 9, written="http://wrap/?u=x")), T0)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Occurrence)).scalar_one() == 3
    history = link_history(engine, "http://wrap/?u=x")  # found by the URL as written
    assert history is not None and [p.link.line for p in history.places] == [1, 7, 9]


def test_due_selection_is_incremental(db_url: str) -> None:
    engine = database(db_url)
    sync_guide(engine, guide(link(A), link(B), link(C)), T0)
    assert due_urls(engine, T0, RECHECK) == [A, B, C]  # never checked
    record_batch(engine, None, [result(A, LinkState.OK, T0), result(B, LinkState.BROKEN, T0),
                                result(C, LinkState.UNVERIFIED, T0, status=429)], RULES)
    assert due_urls(engine, T0 + hours(1), RECHECK) == [B]  # failing: always due
    assert due_urls(engine, T0 + hours(1), RECHECK, full=True) == [A, B, C]
    assert due_urls(engine, T0 + hours(20), RECHECK) == [A, B, C]
    assert due_urls(engine, T0 + hours(1), RECHECK, guides=["other.md"]) == []


def test_validators_round_trip_and_304_keeps_them(db_url: str) -> None:
    engine = database(db_url)
    record_batch(engine, None, [result(A, LinkState.OK, T0, etag='"v1"',
                                       last_modified="Mon, 02 Mar 2026 06:00:00 GMT")], RULES)
    stored = validators(engine, [A, B])
    assert set(stored) == {A} and stored[A].etag == '"v1"'
    record_batch(engine, None, [result(A, LinkState.OK, T0 + hours(24), status=304)], RULES)
    record_batch(engine, None, [result(A, LinkState.ERROR, T0 + hours(48), status=503)], RULES)
    assert validators(engine, [A])[A].etag == '"v1"'
    history = link_history(engine, A)
    assert history is not None and history.content_changed_at is None
    record_batch(engine, None, [result(A, LinkState.OK, T0 + hours(72), etag='"v2"')], RULES)
    history = link_history(engine, A)
    assert history is not None and history.content_changed_at == T0 + hours(72)
    assert validators(engine, [A])[A].etag == '"v2"'


def test_last_elapsed_is_the_latest_checks_time(db_url: str) -> None:
    engine = database(db_url)
    record_batch(engine, None, [result(A, LinkState.OK, T0, elapsed_ms=9000)], RULES)
    record_batch(engine, None, [result(A, LinkState.OK, T0 + hours(24), elapsed_ms=2500),
                                result(B, LinkState.OK, T0 + hours(24), elapsed_ms=40)], RULES)
    assert last_elapsed(engine, [A, B, C]) == {A: 2.5, B: 0.04}


def test_check_history_reads_in_one_query_what_the_separate_reads_give(db_url: str) -> None:
    """Validators, last elapsed time and page references of the due URLs: the same answers
    as `validators`, `last_elapsed` and `page_references`, whatever is due."""
    engine = database(db_url)
    D, E, F = "https://d.example/", "https://e.example/off", "mailto:x@example.org"
    off, mail = replace(link(E), disabled=True), replace(link(F), kind=LinkKind.MAILTO)
    sync_guide(engine, guide(link(A), link(B), link(C), link(D), link(D, 9), off, mail), T0)
    sync_guide(engine, guide(link(C), path="other.md"), T0)
    record_batch(engine, None, [
        result(A, LinkState.OK, T0, etag='"a1"', elapsed_ms=1200, title="A page", heading="A",
               text_length=900),
        result(B, LinkState.BROKEN, T0, elapsed_ms=30),
        result(C, LinkState.OK, T0, last_modified="Mon, 02 Mar 2026 06:00:00 GMT"),
        result(E, LinkState.OK, T0),
    ], RULES)
    for at, full, names, expected in [
        (T0 + hours(1), False, None, [B, D]),  # failing, never checked; E is disabled
        (T0 + hours(1), True, None, [A, B, C, D]),
        (T0 + hours(30), False, None, [A, B, C, D]),
        (T0 + hours(1), True, ["other.md"], [C]),
        (T0 + hours(1), False, ["none.md"], []),
    ]:
        history = check_history(engine, at, RECHECK, full=full, guides=names)
        due = sorted(history.due)
        assert due == expected, (at, full, names)
        assert history.validators == validators(engine, due)
        assert history.expected_seconds == last_elapsed(engine, due)
        assert history.references == page_references(engine, due)
    assert check_history(engine, T0 + hours(1), RECHECK, full=True).references[A].title == "A page"


def test_network_down_batches_store_nothing(db_url: str) -> None:
    engine = database(db_url)
    record_batch(engine, None, [result(A, LinkState.OK, T0)], RULES)
    record_batch(engine, None, [result(A, LinkState.BROKEN, T0 + hours(24))], RULES,
                 network_down=True)
    history = link_history(engine, A)
    assert history is not None and history.verdict == "ok" and len(history.entries) == 1


def test_writer_flushes_results_that_waited_max_age(db_url: str) -> None:
    engine = database(db_url)
    now = [100.0]
    writer = ResultWriter(engine, start_run(engine, "check", T0), RULES, batch_size=1000,
                          max_age=5.0, clock=lambda: now[0])

    def stored() -> int:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(ResultRow)).scalar_one()

    writer.add(result(A, LinkState.OK, T0))
    now[0] += 4.0
    writer.add(result(B, LinkState.OK, T0))
    writer.flush_stale()
    assert stored() == 0  # the oldest has waited 4 s
    now[0] += 1.0
    writer.flush_stale()
    assert stored() == 2
    writer.add(result(C, LinkState.OK, T0))
    writer.flush_stale()
    assert stored() == 2  # the age counts from the first result of the new batch


def test_writer_flushes_full_batches_and_on_exit(db_url: str) -> None:
    engine = database(db_url)
    run_id = start_run(engine, "check", T0)
    with ResultWriter(engine, run_id, RULES, batch_size=3) as writer:
        for n in range(7):
            writer.add(result(f"https://h{n}.example/", LinkState.OK, T0))
            stored = _count(engine)
            assert stored == (n + 1) // 3 * 3
    assert _count(engine) == 7 and writer.counts() == {"ok": 7}


def _count(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(ResultRow)).scalar_one()


def test_thinning_keeps_state_changes_and_the_latest(db_url: str) -> None:
    engine = database(db_url)
    states = [LinkState.OK] * 10 + [LinkState.BROKEN] * 3 + [LinkState.OK] * 10
    for day, state in enumerate(states):
        record_batch(engine, None, [result(A, state, T0 + timedelta(days=day))], RULES)
    now = T0 + timedelta(days=len(states) + 60)
    deleted = thin(engine, now, timedelta(days=30))
    history = link_history(engine, A)
    assert history is not None
    kept = [(e.at - T0).days for e in history.entries]
    # day 0 (new -> ok), 10 (failing), 11 (broken), 13 (fixed), and the latest (22)
    assert kept == [0, 10, 11, 13, 22]
    assert deleted == len(states) - len(kept)
    assert intact(engine)
