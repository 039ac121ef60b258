"""What a terminal gets: colour unless NO_COLOR is set, a progress bar only when stderr is one
and neither `-q` nor `--no-progress` was given."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TextIO


def color_enabled(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour for `stream`: only a terminal, and never when NO_COLOR is set to anything
    non-empty (https://no-color.org)."""
    environ = os.environ if environ is None else environ
    return not environ.get("NO_COLOR") and stream.isatty()


def progress_enabled(stream: TextIO, *, progress: bool = True, quiet: int = 0) -> bool:
    """A progress bar on `stream` (stderr): a terminal, and not turned off by a flag."""
    return progress and not quiet and stream.isatty()
