"""What the user sees when a command fails in a way no `Fail` foresaw: a full or failing
disk is one line and exit 6; anything else is a bug, written to a crash file (exit 7)."""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
import tempfile
import traceback
from datetime import UTC, datetime

from linkfresh.exitcodes import ExitCode, Fail

# The disk itself failing: no fix in the config or the command line.
DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG})
# SQLite's words for the same (sqlite3 carries no errno).
_SQLITE_DISK = ("database or disk is full", "disk i/o error")


def os_failure(error: OSError, what: str) -> Fail:
    """`Fail` for an OSError while working on `what` (a path, or "key path"): a disk
    failure is exit 6, anything else (missing folder, permissions, read-only) exit 2."""
    reason = error.strerror or str(error)
    code = ExitCode.STORAGE if error.errno in DISK_ERRNOS else ExitCode.USAGE
    return Fail(f"{what}: {reason}", code)


def storage_failure(error: BaseException, database: str = "the database") -> Fail | None:
    """The one line and exit 6 for a disk that is full or failing, else None.

    `database` names the database in the message (its URL, when the caller knows it).
    """
    # Only a run that started a writer process can have lost it (no import on this path).
    writer = sys.modules.get("linkfresh.storage.writer_process")
    for cause in _causes(error):
        if writer is not None and isinstance(cause, writer.WriterDied):
            return Fail(f"{database}: {cause}", ExitCode.STORAGE)
        if isinstance(cause, OSError) and cause.errno in DISK_ERRNOS:
            where = f"cannot write {cause.filename}" if cause.filename else "cannot write"
            return Fail(f"{where}: {cause.strerror or cause}", ExitCode.STORAGE)
        if isinstance(cause, sqlite3.OperationalError) and str(cause).lower() in _SQLITE_DISK:
            return Fail(f"{database}: cannot write: {cause} (is its disk full or failing?)",
                        ExitCode.STORAGE)
    return None


def _causes(error: BaseException) -> list[BaseException]:
    """`error`, what caused it (SQLAlchemy's `orig`, `__cause__`, `__context__`) and, for an
    exception group (a task group's), every exception in it, each once."""
    seen: list[BaseException] = []
    todo = [error]
    while todo:
        current = todo.pop()
        if any(current is known for known in seen):
            continue
        seen.append(current)
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        todo.extend(cause for cause in (getattr(current, "orig", None), current.__cause__,
                                        current.__context__) if isinstance(cause, BaseException))
    return seen


def crash_report(error: BaseException, folder: str | None = None) -> str:
    """Write the traceback of an unexpected `error` to a new file; returns its path.

    The file goes to `folder` (default: the temporary directory, `$TMPDIR`), since the
    working directory may be the very thing that cannot be written.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    handle, path = tempfile.mkstemp(prefix=f"linkfresh-crash-{stamp}-", suffix=".txt",
                                    dir=folder)
    with os.fdopen(handle, "w", encoding="utf-8") as report:
        report.write("".join(traceback.format_exception(error)))
    return path


def unexpected(error: BaseException) -> Fail:
    """One line for an error nothing foresaw: where its traceback was written, exit 7."""
    summary = f"{type(error).__name__}: {error}".splitlines()[0][:200] if str(error) else (
        type(error).__name__)
    try:
        where = f"the full traceback is in {crash_report(error)}"
    except OSError as failure:
        where = f"the traceback could not be written ({failure.strerror or failure})"
    return Fail(f"internal error ({summary}); {where}", ExitCode.INTERNAL)
