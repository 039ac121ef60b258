"""Benchmark: `linkfresh worker` processes sharing one PostgreSQL database.

One guide of N links (default 100,000) on the simulated web (`simweb.py`, every answer after
`--latency`), checked by 1, 2 and 4 workers in turn, each time on a fresh database: wall time
from the workers' start to the last one's exit (guide sync included), requests the web saw per
link, and the database's size afterwards. Printed, and written to results/workers.json and
results/workers.md. A worker keeps `concurrency` requests in flight, so with latency the
checks are latency-bound and more workers finish sooner, even on 2 cores.

    .venv/bin/python bench/workers_bench.py                  # 100,000 links, 1/2/4 workers
    .venv/bin/python bench/workers_bench.py --links 5000 --workers 1,2

The PostgreSQL server is the tests' throwaway one (tests/postgres_server.py: Debian's
`postgresql` package, started on a free port, removed at the end).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

VERBOSE = False
BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from tests.configs import write_config  # noqa: E402
from tests.postgres_server import PostgresServer, unavailable_reason  # noqa: E402


def start_web(hosts: int, port: int, latency: float) -> tuple[subprocess.Popen[str], str]:
    web = subprocess.Popen([sys.executable, str(BENCH / "simweb.py"), "--hosts", str(hosts),
                            "--port", str(port), "--latency", str(latency),
                            "--max-seconds", "7200"],
                           stdout=subprocess.PIPE, text=True)
    assert web.stdout is not None
    ready = json.loads(web.stdout.readline())
    return web, ready["control"]


def control(base: str, path: str, method: str = "GET") -> dict[str, object]:
    request = urllib.request.Request(base + path, method=method)
    with urllib.request.urlopen(request, timeout=60) as answer:
        body = answer.read()
    return json.loads(body) if body.strip().startswith(b"{") else {}


def write_guide(folder: Path, links: int, hosts: int, port: int) -> Path:
    lines = ["# A big guide", ""]
    for n in range(links):
        if n % 1000 == 0:
            lines += ["", f"## Part {n // 1000 + 1}", ""]
        lines.append(f"- [page {n}](http://127.0.0.{10 + n % hosts}:{port}/page/{n})")
    path = folder / "guide.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def database_size(url: str) -> int:
    from sqlalchemy import text

    from linkfresh.storage.engine import open_engine

    engine = open_engine(url)
    with engine.connect() as conn:
        size = int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    engine.dispose()
    return size


def run_workers(config: Path, count: int) -> tuple[float, list[int]]:
    started = time.monotonic()
    command = [sys.executable, "-m", "linkfresh", "-c", str(config), "worker", "--until-idle",
               *(["-vv"] if VERBOSE else [])]
    workers = [subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True) for _ in range(count)]
    codes = []
    for worker in workers:
        _, err = worker.communicate()
        if worker.returncode or VERBOSE:
            print(err[-20000:], file=sys.stderr)
        codes.append(worker.returncode)
    return time.monotonic() - started, codes


def render(rows: list[dict[str, object]], args: argparse.Namespace) -> str:
    lines = [
        "# Workers on one PostgreSQL database",
        "",
        f"{args.links:,} links on {args.hosts} simulated hosts, {args.latency * 1000:.0f} ms "
        f"per answer; each worker: concurrency {args.concurrency}, per_host {args.per_host} "
        f"(over all workers), {args.per_slot} links per slot per batch. A fresh database "
        "each time; wall time includes the workers' start and guide sync.",
        "",
        "| workers | wall time (s) | links/s | speed-up | requests per link | database size (MB) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    base = float(rows[0]["seconds"])  # type: ignore[arg-type]
    for row in rows:
        seconds = float(row["seconds"])  # type: ignore[arg-type]
        lines.append(f"| {row['workers']} | {seconds:.1f} | {args.links / seconds:.0f} | "
                     f"{base / seconds:.2f}x | {row['requests_per_link']:.3f} | "
                     f"{int(row['database_bytes']) / 1e6:.1f} |")  # type: ignore[call-overload]
    return "\n".join(lines) + "\n"


def _shown(value: object) -> str:
    """An argument as written to the results: paths relative to the repository."""
    if isinstance(value, Path) and value.resolve().is_relative_to(REPO):
        return str(value.resolve().relative_to(REPO))
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--per-host", type=int, default=4)
    parser.add_argument("--per-slot", type=int, default=32)
    parser.add_argument("--port", type=int, default=18090)
    parser.add_argument("--work", type=Path, default=BENCH / "work" / "workers")
    parser.add_argument("--output", type=Path, default=BENCH / "results")
    parser.add_argument("--verbose", action="store_true", help="show the workers' logs")
    args = parser.parse_args(argv)
    global VERBOSE
    VERBOSE = args.verbose
    reason = unavailable_reason()
    if reason:
        print(f"workers_bench: {reason}", file=sys.stderr)
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    write_guide(args.work, args.links, args.hosts, args.port)
    web, web_control = start_web(args.hosts, args.port, args.latency)
    server = PostgresServer.start()
    rows: list[dict[str, object]] = []
    try:
        for count in (int(n) for n in args.workers.split(",")):
            url = server.new_database()
            config = write_config(
                args.work, guides=["guide.md"], database=url, topics=[], feeds=[],
                reports_dir=str(args.work / "reports"), fast=False,
                check={"allow_private": True, "concurrency": args.concurrency,
                       "per_host": args.per_host, "recheck_after_hours": 0},
                tables={"digest": {"archive_lookup": False},
                        "schedule": {"collect": "0 0 29 2 *", "digest": "0 0 29 2 *"},
                        "worker": {"links_per_slot": args.per_slot, "poll_seconds": 1}})
            control(web_control, "/_reset", "POST")
            seconds, codes = run_workers(config, count)
            stats = control(web_control, "/_stats")
            row = {"workers": count, "seconds": round(seconds, 2), "exit_codes": codes,
                   "requests": stats["requests"],
                   "requests_per_link": int(stats["requests"]) / args.links,  # type: ignore[call-overload]
                   "database_bytes": database_size(url)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    finally:
        server.stop()
        web.terminate()
        web.wait()
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "workers.json").write_text(json.dumps(
        {"args": {k: _shown(v) for k, v in vars(args).items()}, "rows": rows}, indent=2) + "\n")
    table = render(rows, args)
    (args.output / "workers.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
