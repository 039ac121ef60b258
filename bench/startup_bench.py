"""Start-up benchmark: wall time of `linkfresh --help` and `linkfresh --version` (issue 15:
at most 0.3 s; cron starts the command every hour). Results: bench/results/startup.json.

    .venv/bin/python bench/startup_bench.py [--runs 15]

Each command runs `--runs` times in a fresh process (as cron starts it); the median and the
slowest run are reported with the load average around the runs, and the modules that cost
most to import (`python -X importtime`) for the slowest command.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
LINKFRESH = BENCH.parent / ".venv" / "bin" / "linkfresh"
RESULTS = BENCH / "results" / "startup.json"
COMMANDS = (("--help",), ("--version",), ("check", "--help"))
TARGET_S = 0.3


def wall_times(command: list[str], runs: int, timeout: float = 60.0) -> list[float]:
    """Each run's wall time, from start to exit.

    Waited for by a blocking wait with a timer to kill a hung run: `subprocess.run(...,
    timeout=)` polls with sleeps of up to 50 ms, which added 0.03-0.05 s to every run.
    """
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   stdin=subprocess.DEVNULL)
        watchdog = threading.Timer(timeout, process.kill)
        watchdog.start()
        code = process.wait()
        times.append(time.perf_counter() - started)
        watchdog.cancel()
        if code != 0:
            raise subprocess.CalledProcessError(code, command)
    return times


def heaviest_imports(args: tuple[str, ...], top: int = 8) -> list[tuple[str, float]]:
    """The top-level imports with the largest cumulative import time, in ms (`-X importtime`)."""
    code = ("import sys; from linkfresh.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n")
    done = subprocess.run([str(LINKFRESH.with_name("python")), "-X", "importtime", "-c", code,
                           *args], capture_output=True, text=True, timeout=60, check=False)
    rows = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line[12:].split("|")
            # nested imports are indented under the module that imported them
            if cumulative.strip().isdigit() and not name[1:].startswith(" "):
                rows.append((name.strip(), int(cumulative) / 1000))
    return sorted(rows, key=lambda row: -row[1])[:top]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", type=Path, default=RESULTS)
    opts = parser.parse_args(argv)
    load_before = os.getloadavg()
    wall_times([str(LINKFRESH), "--version"], 2)  # warm the page cache and .pyc files
    rows = []
    for args in COMMANDS:
        times = wall_times([str(LINKFRESH), *args], opts.runs)
        rows.append({
            "command": " ".join(["linkfresh", *args]),
            "median_s": round(statistics.median(times), 3),
            "min_s": round(min(times), 3),
            "max_s": round(max(times), 3),
            "runs": len(times),
            "within_target": statistics.median(times) <= TARGET_S,
            "heaviest_imports_ms": heaviest_imports(args),
        })
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": sys.version.split()[0],
        "cores": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "target_s": TARGET_S,
        "results": rows,
    }
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"start-up, {opts.runs} runs each; load average before "
          f"{load_before[0]:.2f}, after {report['load_average_after'][0]:.2f}")
    for row in rows:
        verdict = "met" if row["within_target"] else "NOT met"
        print(f"{row['command']:<24} median {row['median_s']:.3f} s (min {row['min_s']:.3f}, "
              f"max {row['max_s']:.3f}); <= {TARGET_S} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
