"""`.linkfreshignore`: one regular expression of URLs not to check per line, as `.lycheeignore`.

Blank lines and lines starting with `#` are skipped. Pure: the caller reads the file.
"""

from __future__ import annotations

import re

IGNORE_FILENAME = ".linkfreshignore"


def parse_ignore_file(text: str, name: str = IGNORE_FILENAME) -> list[str]:
    """The patterns of an ignore file; a bad one is a ValueError naming `name:line`."""
    patterns = []
    for number, line in enumerate(text.splitlines(), start=1):
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"{name}:{number}: {pattern!r} is not a valid regular "
                             f"expression: {error}") from None
        patterns.append(pattern)
    return patterns
