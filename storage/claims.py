"""Workers sharing one database: check rounds, claims on due links with a lease, and host
slots leased across workers, so that at most `per_host` requests are in flight per host over
all workers together. Claims use SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite has
one writer at a time, so there a plain claim is already exclusive). Lease times are read from
the database's clock, never from a worker's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    exists,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from linkfresh.collector.types import CheckResult
from linkfresh.storage.engine import Db, exclusive, is_postgres, reading
from linkfresh.storage.guide_links import is_checked_place, is_due
from linkfresh.storage.models import CheckRound, HostSlot, Occurrence, Resource, ResultRow
from linkfresh.storage.runs import RunOutcome, finish_run, record_batch, start_run
from linkfresh.storage.state import StateRules
from linkfresh.storage.values import RoundStatus

R, OCC, S, K = (Resource.__table__, Occurrence.__table__, HostSlot.__table__,
              CheckRound.__table__)


@dataclass(frozen=True, slots=True)
class Round:
    id: int
    slot: datetime
    opened_at: datetime
    run_id: int


@dataclass(frozen=True, slots=True)
class Claim:
    resource_id: int
    url: str
    host: str


def db_now(connection: Connection) -> datetime:
    """The database server's clock (UTC): leases compare against it, so workers on machines
    whose clocks disagree still agree on when a lease ran out."""
    if is_postgres(connection):
        value = connection.execute(text("SELECT now() AT TIME ZONE 'UTC'")).scalar_one()
    else:
        value = datetime.fromisoformat(connection.execute(
            text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one())
    return value.replace(tzinfo=UTC)


def _round(row: object) -> Round:
    return Round(row.id, row.slot, row.opened_at, row.run_id)  # type: ignore[attr-defined]


def open_round(engine: Engine, slot: datetime, now: datetime) -> Round:
    """The round for the schedule's fire time `slot`, opening it (and its `check` run) if no
    worker has yet; older rounds still open are closed as superseded."""
    found = _round_at(engine, slot)
    if found is not None:
        return found
    try:
        with exclusive(engine) as session:
            run_id = start_run(session, "check", now)
            session.execute(K.insert().values(slot=slot, opened_at=now, run_id=run_id))
            older = session.execute(select(K.c.id, K.c.run_id).where(
                K.c.closed_at.is_(None), K.c.slot < slot)).all()
            for round_id, old_run in older:
                session.execute(update(K).where(K.c.id == round_id).values(closed_at=now))
                finish_run(session, old_run, now, RunOutcome.INTERRUPTED,
                           _round_counts(session.connection(), old_run))
    except IntegrityError:
        pass  # another worker opened it first
    opened = _round_at(engine, slot)
    assert opened is not None
    return opened


def _round_at(engine: Engine, slot: datetime) -> Round | None:
    with reading(engine) as connection:
        row = connection.execute(select(K).where(K.c.slot == slot)).first()
    return None if row is None else _round(row)


def latest_round(db: Db) -> tuple[Round, bool] | None:
    """The newest round and whether it is still open (None before the first)."""
    with reading(db) as connection:
        row = connection.execute(select(K).order_by(K.c.slot.desc()).limit(1)).first()
    return None if row is None else (_round(row), row.closed_at is None)


def _live() -> ColumnElement[bool]:
    return exists().where(OCC.c.resource_id == R.c.id, is_checked_place())


def _due_in(round_: Round, recheck_after: timedelta) -> ColumnElement[bool]:
    """Due in the round and not yet checked in it: `is_due` as of the round's opening, so a
    link is due at most once per round."""
    return and_(
        _live(),
        or_(R.c.checked_round.is_(None), R.c.checked_round < round_.id),
        is_due(round_.opened_at, recheck_after),
    )


def _free(now: datetime) -> ColumnElement[bool]:
    return or_(R.c.lease_until.is_(None), R.c.lease_until < now)


def due_hosts(engine: Engine, round_: Round, recheck_after: timedelta) -> dict[str, int]:
    """Hosts with links due in the round that no live lease holds, and how many each."""
    with reading(engine) as connection:
        now = db_now(connection)
        return dict(connection.execute(
            select(R.c.host, func.count()).where(_due_in(round_, recheck_after), _free(now))
            .group_by(R.c.host)).all())


def remaining(db: Db, round_: Round, recheck_after: timedelta) -> int:
    """Links of the round not yet recorded, claimed or not."""
    with reading(db) as connection:
        return int(connection.execute(
            select(func.count()).select_from(R).where(_due_in(round_, recheck_after))
        ).scalar_one())


def round_status(db: Db, recheck_after: timedelta) -> RoundStatus | None:
    """The open round, for `status`: links left, links held by live leases, and by how many
    workers (None when no round is open)."""
    latest = latest_round(db)
    if latest is None or not latest[1]:
        return None
    round_ = latest[0]
    with reading(db) as connection:
        now = db_now(connection)
        held, workers = connection.execute(
            select(func.count(), func.count(R.c.lease_owner.distinct()))
            .where(R.c.lease_owner.is_not(None), R.c.lease_until >= now)).one()
    left = remaining(db, round_, recheck_after)
    return RoundStatus(round_.id, round_.opened_at, left, int(held), int(workers))


def lease_slots(engine: Engine, owner: str, wanted: Sequence[tuple[str, int]], per_host: int,
                budget: int, lease: timedelta) -> dict[str, int]:
    """Lease free slots of the hosts in `wanted` (host, slots it could use), in that order,
    `budget` in all; how many each host got. Slots other workers hold are passed over, so a
    worker takes the next host instead of waiting for a busy one."""
    if not wanted or budget <= 0:
        return {}
    hosts = [host for host, _ in wanted]
    rows = [{"host": host, "slot": n} for host in sorted(hosts) for n in range(per_host)]
    with exclusive(engine) as session:
        insert = pg_insert if is_postgres(engine) else sqlite_insert
        session.execute(insert(S).on_conflict_do_nothing(), rows)
    with exclusive(engine) as session:
        now = db_now(session.connection())
        free: dict[str, list[int]] = {}
        for chunk in _chunks(hosts):
            for slot_id, host in session.execute(
                    select(S.c.id, S.c.host).where(
                        S.c.host.in_(chunk), S.c.slot < per_host,
                        or_(S.c.owner.is_(None), S.c.lease_until < now))
                    .order_by(S.c.host, S.c.slot).with_for_update(skip_locked=True)):
                free.setdefault(host, []).append(slot_id)
        chosen: list[int] = []
        got: dict[str, int] = {}
        for host, need in wanted:
            take = free.get(host, [])[:min(need, budget - len(chosen))]
            if take:
                chosen += take
                got[host] = len(take)
        if chosen:
            session.execute(update(S).where(S.c.id.in_(chosen))
                            .values(owner=owner, lease_until=now + lease))
    return got


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def claim_links(engine: Engine, owner: str, round_: Round, host: str, limit: int,
                recheck_after: timedelta, lease: timedelta) -> list[Claim]:
    """Claim up to `limit` of the host's links due in the round for `lease`."""
    with exclusive(engine) as session:
        now = db_now(session.connection())
        pick = (select(R.c.id).where(R.c.host == host, _due_in(round_, recheck_after),
                                     _free(now))
                .order_by(R.c.id).limit(limit).with_for_update(skip_locked=True))
        rows = session.execute(update(R).where(R.c.id.in_(pick))
                               .values(lease_owner=owner, lease_until=now + lease)
                               .returning(R.c.id, R.c.url, R.c.host)).all()
    return sorted((Claim(*row) for row in rows), key=lambda claim: claim.resource_id)


def renew(engine: Engine, owner: str, lease: timedelta) -> int:
    """Extend every lease `owner` holds (links and slots); how many links it still holds."""
    with exclusive(engine) as session:
        now = db_now(session.connection())
        held = session.execute(update(R).where(R.c.lease_owner == owner)
                               .values(lease_until=now + lease)).rowcount
        session.execute(update(S).where(S.c.owner == owner).values(lease_until=now + lease))
    return int(held or 0)


def release(engine: Engine, owner: str, *, slots: bool = True,
            links: Iterable[int] | None = None) -> None:
    """Give back `owner`'s slots and the given links (all its links with None) unchecked."""
    with exclusive(engine) as session:
        query = update(R).where(R.c.lease_owner == owner)
        if links is not None:
            query = query.where(R.c.id.in_(list(links)))
        session.execute(query.values(lease_owner=None, lease_until=None))
        if slots:
            session.execute(update(S).where(S.c.owner == owner)
                            .values(owner=None, lease_until=None))


def record_claimed(engine: Engine, owner: str, round_: Round, results: Sequence[CheckResult],
                   rules: StateRules) -> int:
    """Record the results of links `owner` still holds, marking them checked in the round,
    all in one transaction. A lease lost meanwhile (it ran out and another worker took the
    link) means the result is dropped: the link is recorded once per round."""
    if not results:
        return 0
    with exclusive(engine) as session:
        held = dict(session.execute(
            select(R.c.url, R.c.id).where(R.c.lease_owner == owner,
                                          R.c.url.in_(sorted({r.url for r in results})))
            .with_for_update()).all())
        mine = [result for result in results if result.url in held]
        record_batch(session, round_.run_id, mine, rules)
        session.execute(update(R).where(R.c.id.in_(list(held.values()))).values(
            lease_owner=None, lease_until=None, checked_round=round_.id))
    return len(mine)


def _round_counts(connection: Connection, run_id: int) -> dict[str, int]:
    counts = dict(connection.execute(
        select(ResultRow.state, func.count()).where(ResultRow.run_id == run_id)
        .group_by(ResultRow.state)).all())
    events = connection.execute(
        select(ResultRow.event, func.count()).where(ResultRow.run_id == run_id,
                                                    ResultRow.event.is_not(None))
        .group_by(ResultRow.event)).all()
    return {**{str(k): int(v) for k, v in counts.items()},
            **{f"event:{k}": int(v) for k, v in events}}


def close_round(engine: Engine, round_: Round, recheck_after: timedelta, now: datetime) -> bool:
    """Close the round if every link due in it is recorded; its `check` run ends "ok".
    True for the one caller that closed it."""
    with exclusive(engine) as session:
        left = session.execute(select(func.count()).select_from(R).where(
            _due_in(round_, recheck_after))).scalar_one()
        if left:
            return False
        closed = session.execute(update(K).where(K.c.id == round_.id, K.c.closed_at.is_(None))
                                 .values(closed_at=now)).rowcount
        if closed != 1:
            return False
        finish_run(session, round_.run_id, now, RunOutcome.OK,
                   _round_counts(session.connection(), round_.run_id))
    return True
