"""`linkfresh worker`: check links claimed from a shared database, beside any number of other
workers on any machines; once a round is done, collect and write the digest when they are due
(under the run lock, so one worker does each).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine

from linkfresh.clients import http_client
from linkfresh.collector.check.checker import check_urls
from linkfresh.collector.check.netdown import UNREACHABLE, is_network_failure, network_down
from linkfresh.collector.guide.unwrap import host_of
from linkfresh.collector.types import CheckResult, Guide, LinkState
from linkfresh.config.settings import CheckSettings, ScheduleSettings
from linkfresh.context import AppContext
from linkfresh.exitcodes import Fail
from linkfresh.schedule import cron_trigger, is_due, last_fire_time
from linkfresh.stages.check import drift_judge
from linkfresh.stages.check_stateless import Clock, utcnow
from linkfresh.stages.collect import collect_stage
from linkfresh.stages.digest import digest_stage
from linkfresh.storage.claims import (
    Claim,
    Round,
    claim_links,
    close_round,
    due_hosts,
    latest_round,
    lease_slots,
    open_round,
    record_claimed,
    release,
    renew,
)
from linkfresh.storage.engine import exclusive
from linkfresh.storage.guide_links import answered_hosts, last_elapsed, sync_guide, validators
from linkfresh.storage.lock import LockHeld, run_lock
from linkfresh.storage.references import page_references
from linkfresh.storage.stage_clock import last_done
from linkfresh.storage.state import StateRules

log = logging.getLogger("linkfresh")
# Guides are synced one worker at a time (a PostgreSQL transaction advisory lock).
SYNC_KEY = int.from_bytes(b"lfsync", "big")
DIGEST_SPAN = timedelta(days=7)
# When other workers hold every slot (or every due link), look again this soon.
BUSY_PAUSE = 0.2
# A batch whose hosts all failed at the network level, none of them one that answered
# before, says nothing about the network if some host answered this recently: its hosts are
# dead, not the network (a guide's last links can all be on one dead host).
ANSWER_MEMORY = 60.0


@dataclass
class WorkerOutcome:
    """What a worker did before it stopped."""

    identity: str
    checked: int = 0
    batches: int = 0
    rounds_closed: int = 0
    stages: list[str] = field(default_factory=list)
    network_down: bool = False


def worker_identity() -> str:
    """Unique among all workers on all machines: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def sync_guides(engine: Engine, guides: Sequence[Guide], now: datetime) -> None:
    """Sync the guides into the database, one worker at a time, so workers starting together
    on a fresh database do not race to create the same rows; a second sync changes nothing."""
    with exclusive(engine, SYNC_KEY) as session:
        for guide in guides:
            sync_guide(session, guide, now)


def current_round(engine: Engine, schedule: ScheduleSettings, now: datetime) -> Round | None:
    """The open round; a new one when the check schedule has fired since the latest opened."""
    latest = latest_round(engine)
    fired = last_fire_time(cron_trigger(schedule.check, schedule.timezone), now)
    if fired is not None and (latest is None or latest[0].slot < fired):
        return open_round(engine, fired.astimezone(UTC), now)
    return latest[0] if latest is not None and latest[1] else None


def looks_down(results: Sequence[CheckResult], yardstick: set[str],
               answered_ago: float | None) -> bool:
    """The `check` rule for "the network is down", for one batch: every host of the batch
    that answered before failed at the network level; or, when none of the batch's hosts
    answered before, every one failed and no host at all answered in `ANSWER_MEMORY`
    seconds (`answered_ago`: seconds since the worker last got an answer, None if never)."""
    tried = {host_of(result.url) for result in results}
    known = yardstick & tried
    if known or answered_ago is None or answered_ago > ANSWER_MEMORY:
        return network_down(results, known)
    return False


def plan_slots(hosts: dict[str, int], per_host: int, per_slot: int) -> list[tuple[str, int]]:
    """Hosts to ask for slots on, most due links first (they take longest), each with the
    slots its due links could use."""
    return [(host, min(per_host, -(-count // per_slot)))
            for host, count in sorted(hosts.items(), key=lambda item: (-item[1], item[0]))]


async def check_claims(client: httpx.AsyncClient, settings: CheckSettings,
                       claims: dict[str, list[Claim]], slots: dict[str, int],
                       engine: Engine, clock: Clock) -> list[CheckResult]:
    """Check each host's claimed links with no more requests in flight than slots held."""
    urls = [claim.url for found in claims.values() for claim in found]
    known, expected = validators(engine, urls), last_elapsed(engine, urls)
    checks = [
        check_urls([claim.url for claim in found], client,
                   settings.model_copy(update={"per_host": slots[host],
                                               "concurrency": slots[host]}),
                   validators=known, expected_seconds=expected, now=clock)
        for host, found in claims.items()
    ]
    return [result for batch in await asyncio.gather(*checks) for result in batch]


class _Renewer(threading.Thread):
    """Renews the worker's leases while it works; a killed worker stops renewing."""

    def __init__(self, engine: Engine, owner: str, lease: timedelta) -> None:
        super().__init__(name="linkfresh-lease", daemon=True)
        self.engine, self.owner, self.lease = engine, owner, lease
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.lease.total_seconds() / 3):
            try:
                renew(self.engine, self.owner, self.lease)
            except Exception as error:  # a lost connection: the next renewal tries again
                log.warning("worker: could not renew leases: %s", error)


async def _pause(stop: threading.Event, seconds: float) -> None:
    end = asyncio.get_running_loop().time() + seconds
    while not stop.is_set() and asyncio.get_running_loop().time() < end:
        await asyncio.sleep(min(0.1, seconds))


def after_round(app: AppContext, engine: Engine, clock: Clock,
                guides: Sequence[Guide]) -> list[str]:
    """Collect and write the digest when their schedules say so, each under the run lock and
    checked again once it is held: whoever gets there first does it, exactly once."""
    schedule = app.settings.schedule
    ran: list[str] = []
    for stage in ("collect", "digest"):
        def due(stage: str = stage) -> bool:
            return is_due(getattr(schedule, stage), schedule.timezone,
                          last_done(engine, stage), clock())

        if not due():
            continue
        try:
            with run_lock(engine, clock(), kind=stage):
                if not due():
                    continue
                if stage == "collect":
                    collect_stage(app, engine, clock(), parsed=guides)
                else:
                    end = clock()
                    path = digest_stage(app, engine, end - DIGEST_SPAN, end, parsed=guides)
                    log.info("digest: wrote %s", path)
                ran.append(stage)
        except LockHeld:
            continue  # another process is on it
        except Fail as failure:
            log.warning("%s: %s", stage, failure)
    return ran


async def work(app: AppContext, engine: Engine, guides: Sequence[Guide], *,
               until_idle: bool, stop: threading.Event, clock: Clock = utcnow,
               client: httpx.AsyncClient | None = None,
               identity: str | None = None) -> WorkerOutcome:
    """Claim, check and record batches until stopped (or, `until_idle`, until no round is
    open). The network being down releases the batch unrecorded: nothing is marked broken."""
    settings = app.settings
    check, own = settings.check, settings.worker
    lease = timedelta(seconds=own.lease_seconds)
    recheck = timedelta(hours=check.recheck_after_hours)
    rules = StateRules.from_settings(check)
    outcome = WorkerOutcome(identity or worker_identity())
    me = outcome.identity
    yardstick = answered_hosts(engine)
    links = [link for guide in guides for link in guide.links]
    last_answer: float | None = None
    renewer = _Renewer(engine, me, lease)
    renewer.start()
    try:
        async with client or http_client(check) as http:
            while not stop.is_set():
                round_ = current_round(engine, settings.schedule, clock())
                if round_ is None:
                    # In a thread: collect runs an event loop of its own.
                    outcome.stages += await asyncio.to_thread(after_round, app, engine, clock,
                                                              guides)
                    if until_idle:
                        break
                    await _pause(stop, own.poll_seconds)
                    continue
                hosts = due_hosts(engine, round_, recheck)
                if not hosts:
                    if close_round(engine, round_, recheck, clock()):
                        outcome.rounds_closed += 1
                        log.info("worker: round %d done", round_.id)
                    else:  # other workers hold the rest: wait for them, or for their leases
                        await _pause(stop, min(own.poll_seconds, BUSY_PAUSE * 5))
                    continue
                slots = lease_slots(engine, me, plan_slots(
                    hosts, check.per_host, own.links_per_slot), check.per_host,
                    check.concurrency, lease)
                claims = {host: found for host, count in slots.items()
                          if (found := claim_links(engine, me, round_, host,
                                                   count * own.links_per_slot, recheck, lease))}
                if not claims:
                    release(engine, me)
                    await _pause(stop, BUSY_PAUSE)
                    continue
                began = time.monotonic()
                results = await check_claims(http, check, claims, slots, engine, clock)
                checked_in = time.monotonic() - began
                answered_ago = None if last_answer is None else time.monotonic() - last_answer
                if looks_down(results, yardstick, answered_ago):
                    release(engine, me)
                    outcome.network_down = True
                    log.warning("worker: %s; %d links returned unchecked", UNREACHABLE,
                                len(results))
                    if until_idle:
                        break
                    await _pause(stop, own.poll_seconds)
                    continue
                answered = {host_of(r.url) for r in results
                            if r.state is not LinkState.SKIPPED and not is_network_failure(r)}
                if answered:
                    yardstick |= answered
                    last_answer = time.monotonic()
                # Drift is judged against the stored references, as a single check does.
                judged = drift_judge(page_references(engine, [r.url for r in results]), links)
                results = [judged(result) for result in results]
                outcome.checked += record_claimed(engine, me, round_, results, rules)
                outcome.batches += 1
                release(engine, me)
                log.debug("worker: %d links on %d hosts: checked in %.2f s, recorded in %.2f s",
                          len(results), len(claims), checked_in,
                          time.monotonic() - began - checked_in)
    finally:
        renewer.done.set()
        renewer.join()
        release(engine, me)
    return outcome
