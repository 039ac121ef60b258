"""Storage benchmark: a simulated year of daily checks through the real storage API, then the
database size and the time of each digest query. Results go to bench/results/storage.json.

    .venv/bin/python bench/storage_bench.py [--links 10000] [--days 365] [--churn 0.02]

Model (seeded, deterministic): every day all links in the guide are checked; each month
`churn` of the links leave the guide and as many new ones arrive (2%/month = ~24%/year);
~3% of links redirect permanently, ~2% sit behind bot walls, 0.5% have a bad night on any
day, ~0.1% break for good each month. Results are thinned weekly (30-day retention).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from linkfresh.collector.types import CheckResult, Guide, Link, LinkKind, LinkState, Paper, Post
from linkfresh.storage import digest_queries as queries
from linkfresh.storage.guide_links import sync_guide
from linkfresh.storage.history import check_history
from linkfresh.storage.migrations import open_database
from linkfresh.storage.news import record_source_run, upsert_papers, upsert_posts
from linkfresh.storage.runs import finish_run, record_batch, start_run, thin
from linkfresh.storage.state import StateRules
from linkfresh.storage.status import link_history, status_summary

START = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)
TOPICS = [f"Topic {n}" for n in range(12)]
RESULTS = Path(__file__).resolve().parent / "results" / "storage.json"


class World:
    """The simulated web: which links are in the guide and how each one behaves."""

    def __init__(self, links: int, rng: random.Random) -> None:
        self.rng, self.next_id = rng, 0
        self.live: list[int] = []
        self.kind: dict[int, str] = {}
        self.dead_from: dict[int, int] = {}
        for _ in range(links):
            self.add()

    def add(self) -> None:
        n, roll = self.next_id, self.rng.random()
        self.next_id += 1
        self.live.append(n)
        self.kind[n] = "redirect" if roll < 0.03 else "wall" if roll < 0.05 else "normal"

    def url(self, n: int) -> str:
        return f"https://host{n % 2000}.example/resources/{n}/page"

    def churn(self, share: float) -> None:
        gone = set(self.rng.sample(self.live, int(len(self.live) * share)))
        self.live = [n for n in self.live if n not in gone]
        for _ in gone:
            self.add()

    def check(self, n: int, day: int, at: datetime) -> CheckResult:
        url = self.url(n)
        if n in self.dead_from and day >= self.dead_from[n]:
            return CheckResult(url, LinkState.BROKEN, at, status=404, elapsed_ms=80)
        if self.kind[n] == "wall":
            return CheckResult(url, LinkState.UNVERIFIED, at, status=429, elapsed_ms=40)
        if self.rng.random() < 0.005:
            return CheckResult(url, LinkState.TIMEOUT, at, error="read timeout", elapsed_ms=20000)
        if self.kind[n] == "redirect":
            return CheckResult(url, LinkState.REDIRECTED, at, status=200,
                               final_url=url.replace("/page", "/moved"), elapsed_ms=150)
        return CheckResult(url, LinkState.OK, at, status=200 if day % 7 == 0 else 304,
                           etag=f'"{n}-{day // 30}"', elapsed_ms=120, title=f"Resource {n}")


def guide_of(world: World) -> Guide:
    links = tuple(
        Link(url=world.url(n), target=world.url(n), written_url=world.url(n), text=f"Res {n}",
             guide="guide.md", line=10 + i, section=("Phase 1", f"Step {i // 500}"),
             kind=LinkKind.HTTP)
        for i, n in enumerate(world.live))
    return Guide("guide.md", "Simulated guide", {}, links, (), (), ())


def simulate(engine, links: int, days: int, churn: float, batch: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    rng, rules = random.Random(4), StateRules()
    world = World(links, rng)
    sync_guide(engine, guide_of(world), START)
    timings = {"sync": 0.0, "due": 0.0, "record": 0.0, "thin": 0.0, "news": 0.0}
    for day in range(days):
        at = START + timedelta(days=day)
        if day and day % 30 == 0:
            world.churn(churn)
            for n in rng.sample(world.live, max(1, links // 1000)):
                world.dead_from[n] = day
            tick = time.perf_counter()
            sync_guide(engine, guide_of(world), at)
            timings["sync"] += time.perf_counter() - tick
        tick = time.perf_counter()
        due = check_history(engine, at, timedelta(hours=20)).due
        timings["due"] += time.perf_counter() - tick
        run_id = start_run(engine, "check", at)
        tick = time.perf_counter()
        checks = [world.check(n, day, at) for n in world.live if world.url(n) in due]
        for start in range(0, len(checks), batch):
            record_batch(engine, run_id, checks[start : start + batch], rules)
        timings["record"] += time.perf_counter() - tick
        finish_run(engine, run_id, at + timedelta(minutes=20), "ok", {"checked": len(checks)})
        tick = time.perf_counter()
        _news(engine, rng, day, at, run_id)
        timings["news"] += time.perf_counter() - tick
        if day % 7 == 6:
            tick = time.perf_counter()
            thin(engine, at, timedelta(days=30))
            timings["thin"] += time.perf_counter() - tick
        if day % 30 == 0:
            print(f"  day {day}: {sum(timings.values()):.0f} s so far", file=sys.stderr)
    return timings


def _news(engine, rng: random.Random, day: int, at: datetime, run_id: int) -> None:  # type: ignore[no-untyped-def]
    papers = [Paper(f"26{day:03d}.{k:05d}", 1, f"Paper {day}-{k}", ("A. Author", "B. Author"),
                    "abstract " * 40, ("cs.CL",), at - timedelta(days=1), at - timedelta(days=1),
                    f"https://arxiv.org/abs/26{day:03d}.{k:05d}",
                    topics=tuple(rng.sample(TOPICS, rng.choice((1, 1, 2)))))
              for k in range(30)]
    upsert_papers(engine, papers, now=at)
    posts = [Post(f"https://blog{k % 7}.example/{day}/{k}", f"Post {day}-{k}", f"Blog {k % 7}",
                  at - timedelta(hours=5), "summary " * 30, topics=(rng.choice(TOPICS),))
             for k in range(8)]
    upsert_posts(engine, posts, now=at)
    for k in range(7):
        record_source_run(engine, f"Blog {k}", rng.random() > 0.03, "timeout", run_id=run_id,
                          now=at)


def time_queries(engine, end: datetime) -> dict[str, float]:  # type: ignore[no-untyped-def]
    start = end - timedelta(days=7)
    probes: dict[str, Callable[[], object]] = {
        "links_checked": lambda: queries.links_checked(engine, start, end),
        "newly_broken": lambda: queries.newly_broken(engine, start, end),
        "still_broken": lambda: queries.still_broken(engine, start, end),
        "fixed": lambda: queries.fixed(engine, start, end),
        "unverified": lambda: queries.unverified(engine, end),
        "flapping": lambda: queries.flapping(engine, end),
        "permanent_redirects": lambda: queries.permanent_redirects(engine, end),
        "new_papers": lambda: queries.new_papers(engine, start, end),
        "new_posts": lambda: queries.new_posts(engine, start, end),
        "failed_sources": lambda: queries.failed_sources(engine, start, end),
        "digest_data (all)": lambda: queries.digest_data(engine, start, end),
        "status_summary": lambda: status_summary(engine, end, timedelta(hours=20)),
        "link_history": lambda: link_history(engine, "https://host5.example/resources/5/page"),
    }
    timings = {}
    for name, probe in probes.items():
        runs = []
        for _ in range(5):
            tick = time.perf_counter()
            probe()
            runs.append((time.perf_counter() - tick) * 1000)
        timings[name] = round(statistics.median(runs), 1)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--churn", type=float, default=0.02, help="share replaced per month")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    with TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        engine = open_database(f"sqlite:///{path}")
        tick = time.perf_counter()
        phases = simulate(engine, args.links, args.days, args.churn, args.batch)
        wall = time.perf_counter() - tick
        end = START + timedelta(days=args.days)
        query_ms = time_queries(engine, end)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            rows = {table: conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
                    for table in ("resource", "occurrence", "check_result", "run", "paper",
                                  "post", "source_run")}
        size = path.stat().st_size
        raw = engine.raw_connection()  # VACUUM cannot run inside a transaction
        try:
            raw.cursor().execute("VACUUM")
        finally:
            raw.close()
        vacuumed = path.stat().st_size
        engine.dispose()
    report = {
        "links": args.links, "days": args.days, "churn_per_month": args.churn,
        "simulate_seconds": round(wall, 1),
        "phase_seconds": {k: round(v, 1) for k, v in phases.items()},
        "db_bytes": size, "db_mb": round(size / 2**20, 1),
        "db_mb_after_vacuum": round(vacuumed / 2**20, 1),
        "rows": rows,
        "db_bytes_per_resource_vacuumed": round(vacuumed / max(rows["resource"], 1)),
        "query_ms_median_of_5": query_ms,
        "targets": {"db_mb": 100, "query_ms": 200},
        "python": sys.version.split()[0],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
