"""Running the `linkfresh` command in-process, as a user would, with its exit code and output."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from linkfresh.cli import main


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Outcome:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)
