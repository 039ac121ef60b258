"""Benchmark: `linkfresh links` throughput on generated reference-heavy guides (issue 12).

Generates changelog-shaped guides (release sections, `- [text][12345]` bullets, definition
blocks after each release, some inline links, autolinks, bare URLs, wrapper links and HTML
anchors) of 1 MB and 10 MB, runs `linkfresh links` on each as a user would (a fresh
process, output to a file), and reports MB/s. Also times the parse alone, and markdown-it-py's
parse of the same text when it is installed (the parser used before). Reported, not asserted.

    .venv/bin/python bench/links_bench.py [--sizes 1,10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
WORDS = (
    "fix", "parser", "stabilise", "lint", "crate", "target", "option", "build", "cache",
    "layout", "tier", "support", "error", "warning", "API", "docs", "release", "format",
)
SECTIONS = ("Language", "Compiler", "Libraries", "Cargo", "Compatibility Notes")


def changelog(size: int, seed: int = 12) -> str:
    """A reference-heavy changelog of about `size` characters."""
    rng = random.Random(seed)
    parts: list[str] = ["---\ntitle: Release notes\n---\n\n# Release notes\n\n"]
    total, number, release = 0, 10_000, 0
    while total < size:
        release += 1
        block = [f"Version 1.{release}.0 (2024-06-13)\n==========================\n\n"]
        definitions = []
        for section in SECTIONS:
            block.append(f'<a id="1.{release}-{section}"></a>\n\n{section}\n--------\n')
            for _ in range(rng.randint(8, 20)):
                number += rng.randint(1, 40)
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12)))
                if rng.random() < 0.3:
                    text += f" `{rng.choice(WORDS)}::{rng.choice(WORDS)}`"
                block.append(f"- [{text.capitalize()}.][{number}]\n")
                definitions.append(f"[{number}]: https://github.com/o/r/pull/{number}/\n")
            block.append(
                f"- See [the docs](https://docs.example.org/{release}/{section.lower()}) and "
                f"<https://blog.example.com/{release}> or https://bare.example.net/{release}\n"
                f"- Moved: [guide](https://www.google.com/url?q=https://guide.example/{release}"
                f"&sa=D) and <a href=\"https://example.com/{release}?a=1&amp;b=2\">html</a>\n\n"
            )
        block.append("\n" + "".join(definitions) + "\n")
        piece = "".join(block)
        parts.append(piece)
        total += len(piece)
    return "".join(parts)


def run_links(path: Path, out: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of `linkfresh links PATH` in a fresh process.

    CPU time (user + system, from `getrusage`) is reported beside wall time because these
    2-core machines are shared: under load, wall time measures the neighbours too.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with out.open("w") as handle:
        subprocess.run([sys.executable, "-m", "linkfresh", "links", str(path)], stdout=handle,
                       check=True, cwd=path.parent)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def parse_seconds(text: str) -> float:
    """CPU seconds of `parse_guide` on `text`, in this process."""
    from linkfresh.collector.guide.parse import parse_guide

    started = time.process_time()
    parse_guide(text, "bench.md")
    return time.process_time() - started


def markdown_it_seconds(text: str) -> float | None:
    try:
        from markdown_it import MarkdownIt
    except ImportError:
        return None
    md = MarkdownIt("commonmark", {"linkify": True}).enable("linkify")
    md.linkify.set({"fuzzy_link": False, "fuzzy_email": False})
    started = time.process_time()
    md.parse(text, {})
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10", help="guide sizes in MB, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the best is kept")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="linkfresh-links-bench-") as folder:
        for size_mb in (float(value) for value in args.sizes.split(",")):
            text = changelog(int(size_mb * 1_000_000))
            path = Path(folder) / f"changelog-{size_mb:g}mb.md"
            path.write_text(text, encoding="utf-8")
            megabytes = path.stat().st_size / 1_000_000
            runs = [run_links(path, Path(folder) / "out.txt") for _ in range(args.repeat)]
            best = min(wall for wall, _ in runs)
            cpu = min(used for _, used in runs)
            listed = (Path(folder) / "out.txt").read_text().splitlines()[-1]
            parse = min(parse_seconds(text) for _ in range(args.repeat))
            old = markdown_it_seconds(text) if size_mb <= 1 else None
            row = {
                "size_mb": round(megabytes, 2),
                "reference_links": text.count("]["),
                "listed": listed,
                "links_seconds": round(best, 2),
                "links_mb_per_s": round(megabytes / best, 2),
                "links_cpu_seconds": round(cpu, 2),
                "links_cpu_mb_per_s": round(megabytes / cpu, 2),
                "load_average": round(os.getloadavg()[0], 1),
                "parse_seconds": round(parse, 2),
                "parse_mb_per_s": round(megabytes / parse, 2),
                "markdown_it_py_parse_seconds": round(old, 2) if old else None,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    RESULTS.mkdir(exist_ok=True)
    machine = (f"{platform.machine()}, {platform.python_implementation()} "
               f"{platform.python_version()}")
    document = {"machine": machine, "repeat": args.repeat, "rows": rows}
    (RESULTS / "links.json").write_text(json.dumps(document, indent=2) + "\n")
    lines = [
        "# `linkfresh links` on reference-heavy guides", "",
        f"Generated by `bench/links_bench.py` ({machine}; best of {args.repeat}; target 1 MB/s).",
        "Wall time counts whatever else the shared machine ran (load average shown); CPU time",
        "is the command's own user + system time. Parse times are CPU seconds in-process.",
        "", "| guide | reference links | `links` wall | MB/s | `links` CPU | MB/s | load | "
        "parse alone | MB/s | markdown-it-py parse (before) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        old = (f"{row['markdown_it_py_parse_seconds']} s" if row["markdown_it_py_parse_seconds"]
               else "-")
        lines.append(
            f"| {row['size_mb']} MB | {row['reference_links']} | {row['links_seconds']} s | "
            f"{row['links_mb_per_s']} | {row['links_cpu_seconds']} s | "
            f"{row['links_cpu_mb_per_s']} | {row['load_average']} | {row['parse_seconds']} s | "
            f"{row['parse_mb_per_s']} | {old} |"
        )
    (RESULTS / "links.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS / 'links.md'}")


if __name__ == "__main__":
    main()
