"""Parsing a big guide in a forked child while the command loads the database.

A recorded check of a big guide has two slow starts that do not depend on each other:
loading the database (importing SQLAlchemy, opening it, taking the run lock: about 0.35 s)
and parsing the guide (0.45 s for 10,000 links). On a machine with a second core, a child
forked before the database is touched parses while the parent loads; the parent then takes
the guides over a pipe (0.05 s to unpickle 10,000 links).

Only on Linux, and only from a process with one thread: forking a process whose other
threads may hold a lock can leave the child stuck on it. Anywhere else, or when the child
dies before answering, the guides are parsed in the process itself, as they always were.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Generic, TypeVar

from linkfresh.collector.types import Guide
from linkfresh.context import STDIN, AppContext, load_and_warn, warn_about
from linkfresh.machine import usable_cores

T = TypeVar("T")

# Below this much guide text the parse is too short to be worth a child (about 1,700 links).
PARSE_AHEAD_BYTES = 128 * 1024
_UNSET = object()


class Forked(Generic[T]):
    """`load()` run in a forked child; `result()` waits for its value (or its exception).

    The value comes back pickled over a pipe. If the child ends without answering (killed,
    out of memory), `result()` runs `load()` in this process instead.
    """

    def __init__(self, load: Callable[[], T]) -> None:
        self.load = load
        self.value: object = _UNSET
        reader, writer = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(reader)
            _answer_and_exit(load, writer)
        os.close(writer)
        self.reader: int | None = reader

    def result(self) -> T:
        if self.value is _UNSET:
            self.value = self._take()
        value = self.value
        if isinstance(value, _Raised):
            raise value.error
        return value  # type: ignore[return-value]

    def _take(self) -> object:
        assert self.reader is not None, "result() after close()"
        with os.fdopen(self.reader, "rb") as pipe:
            self.reader = None
            data = pipe.read()
        os.waitpid(self.pid, 0)
        self.pid = 0
        try:
            answer = pickle.loads(data)  # our own child, over our own pipe
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError):
            answer = None
        if not isinstance(answer, tuple) or len(answer) != 2:  # the child died first
            return self.load()
        ok, value = answer
        return value if ok else _Raised(value)

    def close(self) -> None:
        """Stop the child if its answer was never taken."""
        if self.reader is not None:
            os.close(self.reader)
            self.reader = None
        if self.pid:
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0


class _Raised:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _answer_and_exit(load: Callable[[], object], writer: int) -> None:
    """In the child: run `load`, write (ok, value or exception) pickled, and exit at once,
    running none of the parent's exit handlers and flushing none of its buffers."""
    code = 0
    try:
        # A Ctrl-C or a stop reaches the parent, which handles it; this child just ends.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            data = pickle.dumps((True, load()), pickle.HIGHEST_PROTOCOL)
        except BaseException as error:  # the parent re-raises it
            data = _pickled_error(error)
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(data)
    except BaseException:  # nothing may escape into the parent's code
        code = 1
    finally:
        os._exit(code)


def _pickled_error(error: BaseException) -> bytes:
    try:
        return pickle.dumps((False, error), pickle.HIGHEST_PROTOCOL)
    except Exception:  # one that does not pickle: its text does
        return pickle.dumps((False, RuntimeError(f"{type(error).__name__}: {error}")))


def can_fork() -> bool:
    """Forking is safe here: Linux, one thread, and a second core to parse on."""
    return (sys.platform.startswith("linux") and threading.active_count() == 1
            and usable_cores() > 1)


def worth_parsing_apart(paths: list[Path], threshold: int = PARSE_AHEAD_BYTES) -> bool:
    """Whether these guide files hold enough text for a child to pay (stdin: never)."""
    total = 0
    for path in paths:
        if path == STDIN:
            return False
        try:
            total += path.stat().st_size
        except OSError:
            return False  # parsed in-process, which reports the problem as it always did
    return total >= threshold


@contextmanager
def parsed_ahead(app: AppContext, guides: list[Path] | None
                 ) -> Iterator[Callable[[], list[Guide]]]:
    """A function giving the guides parsed, their warnings printed: parsed in a forked child
    started now for big guides (`Forked`), else in this process when it is called."""
    child = None
    if can_fork() and worth_parsing_apart(app.guide_paths(guides)):
        with suppress(OSError):  # no process or pipe to spare: parsed here instead
            child = Forked(lambda: app.load_guides(guides))
    if child is None:
        yield lambda: load_and_warn(app, guides)
        return
    started = child

    def parsed() -> list[Guide]:
        found = started.result()
        warn_about(found, app)
        return found

    try:
        yield parsed
    finally:
        started.close()
