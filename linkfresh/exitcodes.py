"""Process exit codes, as the README's "Exit codes" table documents them."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    DEAD_LINKS = 1  # what counts is set by --fail-on
    USAGE = 2  # bad usage, bad config or unreadable input
    UNVERIFIABLE = 3  # the network is down: nothing may be marked broken
    LOCKED = 4  # another run holds the lock
    # A collect run where some (not all) sources failed; see README "Exit codes".
    SOURCES_FAILED = 5
    STORAGE = 6  # the disk is full or failing: the database or an output file not written
    INTERNAL = 7  # a bug: one line on stderr names the file with the full traceback


class Fail(Exception):
    """Stop the command with a message for the user and an exit code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.code = code

    def __reduce__(self) -> tuple[type[Fail], tuple[str, ExitCode]]:
        # Pickled with its code (a child process's failure is re-raised as it was).
        return (Fail, (str(self), self.code))
