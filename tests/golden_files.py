"""Golden-file comparison shared by the report tests; `UPDATE_GOLDEN=1` rewrites the files."""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(path: Path, text: str) -> None:
    """Compare `text` byte for byte with the golden file, or rewrite it under UPDATE_GOLDEN=1."""
    data = text.encode("utf-8")
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert path.read_bytes() == data, f"{path} differs; UPDATE_GOLDEN=1 rewrites it"
