"""`kill -9` of a real `linkfresh check` mid-run: the database stays sound, what was
committed stays, and the next check marks the killed run interrupted and goes on."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from linkfresh.storage.runs import DEFAULT_MAX_AGE
from tests.configs import write_config
from tests.servers import LocalServer, Reply, html_page


def results(folder: Path) -> int:
    db = sqlite3.connect(folder / "state.db", timeout=10)
    try:
        return int(db.execute("SELECT count(*) FROM check_result").fetchone()[0])
    except sqlite3.OperationalError:  # tables not created yet
        return 0
    finally:
        db.close()


def test_kill_9_mid_check(tmp_path: Path, new_server: Callable[[], LocalServer]) -> None:
    server = new_server()
    # Quick pages, then pages that never answer in time: the quick ones are written once
    # they have waited DEFAULT_MAX_AGE, while the check still waits for the slow ones.
    fast = [server.route(f"/killed/fast{n}", html_page(f"Page {n}")) for n in range(120)]
    slow = [server.route(f"/killed/slow{n}", Reply(200, delay=60)) for n in range(4)]
    body = "\n".join(f"- [p{n}]({url})" for n, url in enumerate(fast + slow))
    (tmp_path / "guide.md").write_text(f"# Guide\n\n{body}\n")
    write_config(tmp_path, database="sqlite:///state.db",
                 check={"per_host": 2, "connect_timeout": 1, "read_timeout": 60,
                        "link_deadline": 120, "retries": 0})
    command = [sys.executable, "-m", "linkfresh", "check", "guide.md"]
    check = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30 + DEFAULT_MAX_AGE
    while results(tmp_path) < len(fast) and time.monotonic() < deadline:
        time.sleep(0.05)
    while server.count("/killed/slow0") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    check.send_signal(signal.SIGKILL)
    check.wait(10)
    committed = results(tmp_path)
    assert committed >= len(fast)  # written by age, before the kill
    db = sqlite3.connect(tmp_path / "state.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT outcome FROM run").fetchall() == [("running",)]
    db.close()
    # The next run takes over (the killed process holds no lock any more) and goes on.
    for route in slow:
        server.route(route.rsplit(server.origin, 1)[1], html_page("Now fast"))
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert again.returncode == 0, again.stderr
    db = sqlite3.connect(tmp_path / "state.db")
    outcomes = [row[0] for row in db.execute("SELECT outcome FROM run ORDER BY id")]
    assert outcomes == ["interrupted", "ok"]
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert results(tmp_path) >= committed
    db.close()
