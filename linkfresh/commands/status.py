"""`status` and `history URL`: what the database knows, printed for people (or as JSON);
`unlock`: clear a run lock its run left behind."""

from __future__ import annotations

import dataclasses
import socket
import sys
from datetime import UTC, datetime, timedelta
from enum import Enum, StrEnum
from typing import Annotated, Any

import typer

from linkfresh.commands.options import Json
from linkfresh.context import AppContext
from linkfresh.exitcodes import ExitCode, Fail
from linkfresh.reports.json_document import json_document, plain_time
from linkfresh.reports.wording import plural
from linkfresh.storage.lock import LockInfo, current_holder, holder_alive, pid_alive, release
from linkfresh.storage.stage_clock import read_heartbeat
from linkfresh.storage.status import link_history, status_summary
from linkfresh.storage.values import LinkHistory, StatusSummary
from linkfresh.store import existing

STATUS_SCHEMA_VERSION = 1
HISTORY_SCHEMA_VERSION = 1


class StatusFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


FormatOption = Annotated[StatusFormat, typer.Option(
    "--format", "-f", metavar="[text|json]", help="Output format.")]


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _ago(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h"


def render_status(summary: StatusSummary, now: datetime) -> str:
    lines = ["Guides:"]
    lines += [f"  {g.name}: {plural(g.active_links, 'link')} in the guide, "
              f"{g.retired_links} retired, "
              f"synced {_when(g.synced_at)}" for g in summary.guides] or ["  (none synced yet)"]
    lines.append("Links by state:")
    lines += [f"  {verdict:<11} {count}" for verdict, count in summary.verdicts.items()] or [
        "  (none)"]
    if summary.due_now:
        lines.append(f"Due now: {plural(summary.due_now, 'link')}")
    else:
        lines.append(f"Due now: none; next at {_when(summary.next_due_at)}")
    lines.append("Last runs:")
    for run in summary.runs:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items()))
        lines.append(f"  #{run.id} {run.kind:<8} {_when(run.started_at)}  {run.outcome:<12} "
                     f"{counts}".rstrip())
    if not summary.runs:
        lines.append("  (none)")
    if summary.round:
        current = summary.round
        lines.append(f"Workers' round #{current.id}, open since {_when(current.opened_at)}: "
                     f"{current.left} links left, {current.held} held by "
                     f"{current.workers} worker(s)")
    if summary.lock_holder:
        lines.append(f"Lock: {summary.lock_holder}")
    return "\n".join(lines) + "\n"


def render_daemon(beat: dict[str, Any] | None) -> str:
    """The `serve` daemon's heartbeat: its pid, and each job's last and next run."""
    if beat is None:
        return "Daemon: never started (`linkfresh serve`)\n"
    pid = int(beat.get("pid", 0))
    state = "running" if pid_alive(pid) else "not running"
    lines = [f"Daemon: pid {pid} ({state}), started {beat.get('started_at')}, "
             f"last heartbeat {beat.get('beat_at')}"]
    for name, job in sorted(dict(beat.get("jobs", {})).items()):
        lines.append(f"  {name:<8} {job.get('schedule')!s:<16} last {job.get('last_run') or '-'}"
                     f"  next {job.get('next_run') or '-'}")
    return "\n".join(lines) + "\n"


def render_history(history: LinkHistory, now: datetime) -> str:
    lines = [history.url, f"  state: {history.verdict} since {_when(history.since)}"]
    if history.failures:
        lines.append(f"  failing: {plural(history.failures, 'check')} in a row since "
                     f"{_when(history.failing_since)}")
    lines.append(f"  last checked: {_when(history.last_checked)}, "
                 f"last ok: {_when(history.last_ok)}")
    if history.final_url and history.final_url != history.url:
        lines.append(f"  ends at: {history.final_url}")
    lines.append("  in the guide:")
    for place in history.places:
        where = " > ".join(place.link.section) or "(top)"
        gone = f" (removed {_when(place.retired_at)})" if place.retired_at else ""
        lines.append(f"    {place.link.guide}:{place.link.line} {where}: "
                     f"[{place.link.text}]{gone}")
    if not history.places:
        lines.append("    (nowhere)")
    lines.append("  checks:")
    for entry in history.entries:
        evidence = entry.error or (str(entry.status) if entry.status else "")
        change = f" -> {entry.verdict}" if entry.verdict != entry.previous else ""
        event = f" [{entry.event}]" if entry.event else ""
        lines.append(f"    {_when(entry.at)}  {entry.state:<10} {evidence}{change}{event}".rstrip())
    return "\n".join(lines) + "\n"


def _plain(value: Any) -> Any:
    """Dataclasses, tuples, enums and times as JSON values (times in UTC, `Z`)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return value.value
    return plain_time(value)


def render_status_json(summary: StatusSummary, beat: dict[str, Any] | None) -> str:
    """`status --json` (docs/schemas/status.schema.json): the summary and the daemon."""
    daemon = None
    if beat is not None:
        pid = int(beat.get("pid", 0))
        daemon = {**_plain(beat), "running": pid_alive(pid)}
    return json_document("status", STATUS_SCHEMA_VERSION, {**_plain(summary), "daemon": daemon})


def render_history_json(history: LinkHistory) -> str:
    """`history URL --json` (docs/schemas/history.schema.json)."""
    return json_document("history", HISTORY_SCHEMA_VERSION, _plain(history))


def status(ctx: typer.Context, output_format: FormatOption = StatusFormat.TEXT,
           as_json: Json = False) -> None:
    """Show the last runs, how many links are in each state, and what is due next."""
    app: AppContext = ctx.obj
    now = datetime.now(UTC)
    as_json = as_json or output_format is StatusFormat.JSON
    with existing(app) as engine:
        if engine is None and not as_json:
            print(f"no database yet at {app.database_url()}; `linkfresh check` creates it")
            return
        if engine is None:  # JSON readers get a document either way: nothing known yet
            summary, beat = StatusSummary((), {}, (), 0, None, None), None
        else:
            recheck = timedelta(hours=app.settings.check.recheck_after_hours)
            summary = status_summary(engine, now, recheck)
            beat = read_heartbeat(engine)
    if as_json:
        sys.stdout.write(render_status_json(summary, beat))
    else:
        sys.stdout.write(render_status(summary, now) + render_daemon(beat))


def history(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(
        metavar="URL", help="The link (normalised, as written, or its target).")],
    output_format: FormatOption = StatusFormat.TEXT,
    as_json: Json = False,
) -> None:
    """Show one link's states over time and where it stands in the guide."""
    app: AppContext = ctx.obj
    now = datetime.now(UTC)
    with existing(app) as engine:
        found = None if engine is None else link_history(engine, url)
    if found is None:
        raise Fail(f"{url}: not in the database (has `linkfresh check` run on a guide "
                   "that contains it?)", ExitCode.USAGE)
    as_json = as_json or output_format is StatusFormat.JSON
    sys.stdout.write(render_history_json(found) if as_json else render_history(found, now))


def _holder_text(holder: LockInfo) -> str:
    started = holder.started_at.isoformat(timespec="seconds")
    kind = f"{holder.kind} " if holder.kind else ""
    return f"the {kind}run of pid {holder.pid} on {holder.host} (started {started})"


def unlock(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option(
        "--force", help="Also clear a lock held on another host: linkfresh cannot see that "
                        "host's processes, so only when you know that run is gone.")] = False,
) -> None:
    """Clear the run lock left behind by a run that is gone (a crash on another host, say).

    A lock whose process is gone on this host is taken over by the next run anyway; a lock
    of a process that is still running is never cleared.
    """
    app: AppContext = ctx.obj
    with existing(app) as engine:
        holder = None if engine is None else current_holder(engine)
        if engine is None or holder is None:
            print("no run holds the lock")
            return
        here = holder.host == socket.gethostname()
        if holder.live or (here and holder_alive(holder.pid, holder.started_at)):
            raise Fail(f"{_holder_text(holder)} is still running; stop it rather than "
                       "clearing its lock", ExitCode.LOCKED)
        if not here and not force:
            raise Fail(f"{_holder_text(holder)} holds the lock; linkfresh cannot tell from "
                       "here whether it is still going. If it is gone, run "
                       "`linkfresh unlock --force`", ExitCode.LOCKED)
        release(engine, holder)
    print(f"cleared the lock of {_holder_text(holder)}")
