"""Score link rot that still answers 200: parked domains and pages that drifted.

Starts the simulated web with its rot hosts (`simweb.py --rot`, see bench/rot_web.py), writes
a guide of 140 links (20 to a parked host, 20 distinct pages of a site whose unknown paths
show its home page, 30 pages that will drift, 10 that are only reworded, 60 healthy pages),
and runs, with their verdicts scored against what each link is:

  1. `linkfresh check` with a fresh database, phase 1 (as the guide's author saw the web);
  2. phase 2 (the drifting pages change), `linkfresh check --full`: the history run;
  3. phase 2, `linkfresh check --no-db`: the stateless run (no history, so no drift);
  4. phase 2, status only: a plain GET following redirects, 2xx = alive, which is what a
     checker judging by the HTTP status sees (no parking or drift detection);
  then `linkfresh digest`, whose "Changed since it was added" section is counted.

Results: a table on stdout, bench/results/rot.json and bench/results/rot.md. Loopback only.

    .venv/bin/python bench/run_rot.py
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LINKFRESH = ROOT / ".venv" / "bin" / "linkfresh"
sys.path.insert(0, str(BENCH))

from rot_web import DRIFT_KINDS  # noqa: E402
from simweb import host_addresses  # noqa: E402

HOSTS = 8  # 127.0.0.10-17: five ordinary hosts, then parked, catchall, drift


def corpus(port: int) -> list[tuple[str, str, str]]:
    """(url, kind, verdict expected in phase 2 with history) for every link of the guide."""
    hosts = host_addresses(HOSTS)
    parked, catchall, drift = hosts[-3:]
    links = [(f"http://{parked}:{port}/2019/{n:02d}/notes-on-training.html", "parked", "parked")
             for n in range(20)]
    links += [(f"http://{catchall}:{port}/article/{n}", "catch-all site", "ok")
              for n in range(1, 21)]
    for kind in DRIFT_KINDS:
        expected = "ok" if kind == "same" else "changed"
        label = "reworded title" if kind == "same" else f"drift: {kind}"
        links += [(f"http://{drift}:{port}/drift/{kind}/{100 + n}", label, expected)
                  for n in range(10)]
    links += [(f"http://{hosts[n % 5]}:{port}/page/{n}", "healthy", "ok") for n in range(60)]
    return links


def write_guide(path: Path, links: list[tuple[str, str, str]]) -> None:
    lines = ["# Rot benchmark guide", ""]
    for n, (url, kind, _) in enumerate(links):
        text = f"CS{url.rsplit('/', 1)[1]} course" if kind.startswith(("drift", "reworded")) \
            else f"resource {n}"
        lines.append(f"- [{text}]({url})")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_config(path: Path, guide: Path, database: Path) -> None:
    path.write_text(
        f'guides = ["{guide}"]\ndatabase = "sqlite:///{database}"\n'
        f'reports_dir = "{path.parent / "reports"}"\ntopics = []\nfeeds = []\n\n'
        "[check]\nallow_private = true\nconcurrency = 64\nper_host = 4\n"
        "connect_timeout = 5\nread_timeout = 5\nretries = 1\nbackoff = 0.05\n\n"
        "[digest]\narchive_lookup = false\n", encoding="utf-8")


class Web:
    def __init__(self, port: int, latency: float, log: Path) -> None:
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, str(BENCH / "simweb.py"), "--hosts", str(HOSTS), "--port",
             str(port), "--latency", str(latency), "--rot", "--max-seconds", "900"],
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL)
        line = self.process.stdout.readline() if self.process.stdout else b""
        if not line:
            raise SystemExit(f"simweb did not start; see {log}")
        self.control = json.loads(line)["control"]

    def call(self, path: str, method: str = "GET") -> dict:
        request = urllib.request.Request(self.control + path, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def stop(self) -> None:
        try:
            self.call("/_quit", "POST")
            self.process.wait(10)
        except Exception:
            self.process.kill()
            self.process.wait(10)
        self.log.close()


def linkfresh(config: Path, *args: str) -> tuple[dict, float, int]:
    started = time.perf_counter()
    done = subprocess.run([str(LINKFRESH), "--config", str(config), *args], capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1) or not done.stdout.strip().startswith("{"):
        raise SystemExit(f"linkfresh {' '.join(args)} exited {done.returncode}: {done.stderr}")
    report = json.loads(done.stdout)
    return {r["url"]: r["state"] for r in report["results"]}, elapsed, done.returncode


def status_only(links: list[tuple[str, str, str]]) -> tuple[dict[str, str], float]:
    """2xx after redirects = ok, anything else = broken: the status-only reading."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    found: dict[str, str] = {}
    started = time.perf_counter()
    for url, _, _ in links:
        try:
            with opener.open(url, timeout=10) as response:
                found[url] = "ok" if 200 <= response.status < 300 else "broken"
        except (urllib.error.URLError, OSError):
            found[url] = "broken"
    return found, time.perf_counter() - started


def score(verdicts: dict[str, str], links: list[tuple[str, str, str]],
          expected_of: dict[str, str]) -> dict[str, object]:
    """Per kind of link: how many got the verdict expected of them, and what the rest got."""
    by_kind: dict[str, Counter[str]] = {}
    right = 0
    for url, kind, _ in links:
        got = verdicts.get(url, "missing")
        by_kind.setdefault(kind, Counter())[got] += 1
        right += got == expected_of[url]
    false_alarms = sum(1 for url, _, _ in links
                       if expected_of[url] == "ok" and verdicts.get(url) in ("parked", "changed"))
    return {"right": right, "total": len(links), "false_alarms": false_alarms,
            "by_kind": {kind: dict(counter) for kind, counter in by_kind.items()}}


def probes(stats: dict) -> int:
    return sum(sum(methods.values()) for key, methods in stats["hits"].items()
               if " /linkfresh-probe-" in key)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--port", type=int, default=18180)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--work", type=Path, default=BENCH / "work" / "rot")
    args = parser.parse_args(argv)
    if not LINKFRESH.exists():
        raise SystemExit(f"{LINKFRESH} is missing: pip install -e . into .venv first")
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    links = corpus(args.port)
    guide, config = args.work / "guide.md", args.work / "linkfresh.toml"
    write_guide(guide, links)
    write_config(config, guide, args.work / "state.db")
    phase1 = {url: "ok" if expected == "changed" else expected for url, _, expected in links}
    phase2 = {url: expected for url, _, expected in links}
    no_history = {url: "ok" if expected == "changed" else expected for url, _, expected in links}
    rows: list[dict[str, object]] = []
    web = Web(args.port, args.latency, args.work / "simweb.log")
    try:
        verdicts, seconds, code = linkfresh(config, "check", "--format", "json")
        stats = web.call("/_stats")
        rows.append({"run": "linkfresh check, phase 1 (fresh database)", "seconds": seconds,
                     "exit": code, "probes": probes(stats), "requests": stats["requests"],
                     **score(verdicts, links, phase1)})
        web.call("/_reset", "POST")
        web.call("/_phase?n=2", "POST")
        verdicts, seconds, code = linkfresh(config, "check", "--full", "--format", "json")
        stats = web.call("/_stats")
        rows.append({"run": "linkfresh check --full, phase 2 (history)", "seconds": seconds,
                     "exit": code, "probes": probes(stats), "requests": stats["requests"],
                     **score(verdicts, links, phase2)})
        web.call("/_reset", "POST")
        verdicts, seconds, code = linkfresh(config, "check", "--no-db", "--format", "json")
        stats = web.call("/_stats")
        rows.append({"run": "linkfresh check --no-db, phase 2 (stateless)", "seconds": seconds,
                     "exit": code, "probes": probes(stats), "requests": stats["requests"],
                     **score(verdicts, links, no_history)})
        web.call("/_reset", "POST")
        verdicts, seconds = status_only(links)
        rows.append({"run": "status only (2xx after redirects = alive), phase 2",
                     "seconds": seconds, "exit": None, "probes": 0,
                     "requests": web.call("/_stats")["requests"],
                     **score(verdicts, links, phase2)})
        digest_file = args.work / "digest.md"
        subprocess.run([str(LINKFRESH), "--config", str(config), "digest", "--output",
                        str(digest_file)], check=True, capture_output=True, timeout=120)
        text = digest_file.read_text(encoding="utf-8")
        listed = re.search(r"## Changed since it was added \((\d+)\)", text)
    finally:
        web.stop()
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "links": len(links), "latency_s": args.latency,
        "kinds": dict(Counter(kind for _, kind, _ in links)),
        "rows": rows,
        "digest_changed_listed": int(listed.group(1)) if listed else 0,
    }
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "rot.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    markdown = render(result)
    (out / "rot.md").write_text(markdown, encoding="utf-8")
    print(markdown)
    return 0


def render(result: dict) -> str:
    kinds = list(result["kinds"])
    lines = [f"# Link rot that answers 200 ({result['date']}, {result['machine']})", "",
             f"{result['links']} links, {result['latency_s']} s latency per answer. Cells: "
             "verdicts given to each kind of link.", "",
             "| run | right | false alarms | " + " | ".join(kinds)
             + " | probes | requests | s |",
             "|---|---:|---:|" + "---|" * len(kinds) + "---:|---:|---:|"]
    for row in result["rows"]:
        cells = [", ".join(f"{count} {verdict}" for verdict, count in
                           sorted(row["by_kind"].get(kind, {}).items())) for kind in kinds]
        lines.append(f"| {row['run']} | {row['right']}/{row['total']} | {row['false_alarms']} | "
                     + " | ".join(cells)
                     + f" | {row['probes']} | {row['requests']} | {row['seconds']:.2f} |")
    lines += ["", f"Digest after phase 2: {result['digest_changed_listed']} links under "
              "\"Changed since it was added\".", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
