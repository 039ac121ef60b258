"""`check --no-db` loads no storage: sqlalchemy and friends cost ~0.4 s it never uses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.configs import write_config
from tests.servers import closed_port

# Modules only the recorded paths (database, collect, digest) need.
HEAVY = ("sqlalchemy", "sqlmodel", "linkfresh.storage", "apscheduler", "arxiv", "feedparser", "bs4")

PROBE = """
import sys
from linkfresh.cli import main
try:
    main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
heavy = sorted(name for name in HEAVY
               if any(loaded == name or loaded.startswith(name + ".") for loaded in sys.modules))
print("EXIT", code)
print("HEAVY", ",".join(heavy))
"""


def _run(tmp_path: Path, *args: str) -> tuple[str, str]:
    write_config(tmp_path, check={"retries": 0})
    url = f"http://127.0.0.1:{closed_port()}/gone"
    (tmp_path / "guide.md").write_text(f"# Guide\n\n## Phase 1\n\n- [gone]({url})\n")
    code = f"HEAVY = {HEAVY!r}\n{PROBE}"
    done = subprocess.run([sys.executable, "-c", code, "check", *args, "guide.md"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines()
                 if line.startswith(("EXIT ", "HEAVY ")))
    return lines["EXIT"], lines["HEAVY"]


def test_check_no_db_imports_no_storage(tmp_path: Path) -> None:
    code, heavy = _run(tmp_path, "--no-db")
    assert code != "2"  # the check ran (the link is refused: network down or broken)
    assert heavy == ""


def test_check_with_db_does_import_storage(tmp_path: Path) -> None:
    # The probe itself can see storage: the recorded check loads it.
    _, heavy = _run(tmp_path)
    assert "sqlalchemy" in heavy.split(",")


def test_the_check_command_loads_the_checker_only_when_it_runs() -> None:
    """Importing `check` (for `check --help`, and before a big guide's parsing child is
    forked) loads neither the checker nor storage: the child starts as early as it can."""
    code = ("import sys, linkfresh.cli, linkfresh.commands.check\n"
            "print(','.join(sorted(m for m in ('httpx', 'asyncio', 'sqlalchemy', 'rich',"
            " 'linkfresh.collector.check.checker') if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == ""
