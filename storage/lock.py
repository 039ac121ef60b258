"""One run at a time: a lock row in the database, and taking over one left by a dead process.

The lock lives in the database (table `run_lock`, at most one row) rather than in a file, so
it works for any database URL and travels with the data it protects. On SQLite a lock whose
process is gone on this host is stale. On PostgreSQL the lock is a session advisory lock held
on a connection of its own: the server frees it when that session ends, however the holder
died, on whatever machine; the row only says who holds it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, delete, select, text, update
from sqlalchemy.exc import IntegrityError

from linkfresh.storage.engine import Db, is_postgres, reading
from linkfresh.storage.models import RunLock

LOCK_ID = 1
# A process that started this long after a lock (or run) was taken cannot be the one that
# took it: its pid was reused. Generous, because wall clocks get adjusted.
REUSE_MARGIN = timedelta(minutes=1)
# The PostgreSQL advisory lock key of the run lock ("lnkfresh" in ASCII, a positive bigint).
# Advisory locks are per database, so two linkfresh databases on one server do not collide.
ADVISORY_KEY = int.from_bytes(b"lnkfresh", "big")


@dataclass(frozen=True, slots=True)
class LockInfo:
    pid: int
    host: str
    started_at: datetime
    kind: str
    token: str
    # PostgreSQL: the connection whose session holds the advisory lock (None on SQLite).
    session: Connection | None = field(default=None, compare=False, repr=False)
    # True when the database itself vouches that the holder is alive (PostgreSQL's lock).
    live: bool = False


class LockHeld(Exception):
    """Another live run holds the lock; `str()` is the message for the user."""

    def __init__(self, holder: LockInfo) -> None:
        started = holder.started_at.isoformat(timespec="seconds")
        where = "" if holder.host == socket.gethostname() else f" on {holder.host}"
        super().__init__(f"another run (pid {holder.pid}{where}, started {started}) holds the lock")
        self.holder = holder


def pid_alive(pid: int) -> bool:
    """True if process `pid` exists on this host and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    stat = Path(f"/proc/{pid}/stat")
    try:
        # A killed but unreaped child still answers kill(0); its state letter is Z.
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def process_started_at(pid: int) -> datetime | None:
    """When process `pid` started, from Linux's /proc; None where that cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22, starttime: clock ticks after boot
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return datetime.fromtimestamp(boot + ticks / os.sysconf("SC_CLK_TCK"), UTC)


def holder_alive(pid: int, since: datetime, alive: Callable[[int], bool] = pid_alive) -> bool:
    """True if the process that took something at `since` as `pid` may still be running:
    `pid` is alive and did not start after `since` (after a reboot, say, the pid of a killed
    run can belong to any process). Where start times cannot be read, alive is alive."""
    if not alive(pid):
        return False
    started = process_started_at(pid)
    return started is None or started <= since + REUSE_MARGIN


def _holder(db: Db) -> LockInfo | None:
    with reading(db) as connection:
        row = connection.execute(select(RunLock.__table__)).first()
        if row is None:
            return None
        held = is_postgres(connection) and advisory_held(connection)
        if is_postgres(connection) and not held:
            return None  # a row its holder left when it died: the lock itself is free
    return LockInfo(row.pid, row.host, row.started_at, row.kind, row.token, live=held)


def advisory_held(connection: Connection) -> bool:
    """Whether some session of this database holds the run lock's advisory lock."""
    return bool(connection.execute(text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND classid = :high AND objid = :low AND objsubid = 1"),
        {"high": ADVISORY_KEY >> 32, "low": ADVISORY_KEY & 0xFFFFFFFF}).scalar_one())


def acquire(engine: Engine, now: datetime, *, kind: str = "", pid: int | None = None,
            host: str | None = None, alive: Callable[[int], bool] = pid_alive) -> LockInfo:
    """Take the lock, or take over a stale one (its holder died on this host).

    Raises `LockHeld` when a live process holds it. Safe against two processes racing: the
    insert relies on the primary key and the take-over on a compare-and-set of the token.
    """
    mine = LockInfo(os.getpid() if pid is None else pid, host or socket.gethostname(),
                    now, kind, uuid.uuid4().hex)
    values = {"id": LOCK_ID, "token": mine.token, "pid": mine.pid, "host": mine.host,
              "kind": kind, "started_at": now}
    if is_postgres(engine):
        return _acquire_advisory(engine, mine, values)
    for _attempt in range(3):
        try:
            with engine.begin() as connection:
                connection.execute(RunLock.__table__.insert().values(**values))
            return mine
        except IntegrityError:
            pass
        holder = _holder(engine)
        if holder is None:
            continue  # released between our insert and our look: try again
        # Another host's pid means nothing here; only a same-host dead (or reused) pid is stale.
        if holder.host != mine.host or holder_alive(holder.pid, holder.started_at, alive):
            raise LockHeld(holder)
        with engine.begin() as connection:
            taken = connection.execute(
                update(RunLock.__table__).where(RunLock.token == holder.token).values(**values))
        if taken.rowcount == 1:
            return mine
    holder = _holder(engine)
    raise LockHeld(holder or mine)


def _acquire_advisory(engine: Engine, mine: LockInfo, values: dict[str, object]) -> LockInfo:
    """PostgreSQL: take the advisory lock on a connection kept for as long as it is held."""
    session = engine.connect()
    try:
        taken = session.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                {"key": ADVISORY_KEY}).scalar_one()
        session.commit()
        if not taken:
            raise LockHeld(_holder(engine) or replace(mine, pid=0, host="?", kind="?"))
        with engine.begin() as connection:  # any row left is a dead holder's: ours now
            connection.execute(delete(RunLock.__table__))
            connection.execute(RunLock.__table__.insert().values(**values))
    except BaseException:
        session.invalidate()  # ends the server session, and with it any lock it took
        session.close()
        raise
    return replace(mine, session=session, live=True)


def release(engine: Engine, lock: LockInfo) -> None:
    """Give the lock back (only if it is still ours)."""
    with engine.begin() as connection:
        connection.execute(delete(RunLock.__table__).where(RunLock.token == lock.token))
    if lock.session is not None:
        lock.session.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
        lock.session.commit()
        lock.session.close()


def current_holder(db: Db) -> LockInfo | None:
    """Who holds the lock now, if anyone (for `status`)."""
    return _holder(db)


@contextmanager
def run_lock(engine: Engine, now: datetime, *, kind: str = "") -> Iterator[LockInfo]:
    """Hold the run lock for the `with` block; raises `LockHeld` if another run has it."""
    lock = acquire(engine, now, kind=kind)
    try:
        yield lock
    finally:
        release(engine, lock)
