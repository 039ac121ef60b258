"""The floor: the fastest any checker can go under the same limits as linkfresh.

Not a link checker. It GETs every distinct URL of the corpus (fragment dropped) with plain
asyncio streams and keep-alive, at most --concurrency requests in flight and --per-host per
host, in the corpus order; it follows no redirect, parses nothing, judges nothing. Whatever
a real checker adds (redirects, pages read, verdicts, output) comes on top of its time.

    python bench/floor.py bench/work/links-2000/guide-2000.md --concurrency 64 --per-host 4
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

LINK = re.compile(r"\]\((http://[^)\s]+)\)")
BODY_CAP = 256 * 1024


async def get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, url: str) -> bool:
    """One GET on an open connection; True when the connection may be reused."""
    parts = urlsplit(url)
    writer.write(f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                 f"User-Agent: floor\r\n\r\n".encode())
    head = (await reader.readuntil(b"\r\n\r\n")).lower()
    length = re.search(rb"content-length: *(\d+)", head)
    if length:
        await reader.readexactly(int(length.group(1)))
        return b"connection: close" not in head
    read = 0  # chunked or unbounded: read up to the cap, then drop the connection
    while read < BODY_CAP and (data := await reader.read(65536)):
        read += len(data)
    return False


async def run(urls: list[str], concurrency: int, per_host: int) -> None:
    by_host: dict[str, deque[str]] = {}
    for url in urls:
        by_host.setdefault(urlsplit(url).netloc, deque()).append(url)
    in_flight = asyncio.Semaphore(concurrency)

    async def worker(queue: deque[str]) -> None:
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while queue:
            url = queue.popleft()
            async with in_flight:
                if connection is None:
                    parts = urlsplit(url)
                    connection = await asyncio.open_connection(parts.hostname, parts.port)
                if not await get(*connection, url):
                    connection[1].close()
                    connection = None

    async with asyncio.TaskGroup() as tasks:
        for round_ in range(per_host):
            for queue in by_host.values():
                if round_ < len(queue):
                    tasks.create_task(worker(queue))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--per-host", type=int, default=4)
    args = parser.parse_args(argv)
    text = args.corpus.read_text(encoding="utf-8")
    urls = list(dict.fromkeys(url.split("#", 1)[0] for url in LINK.findall(text)))
    asyncio.run(run(urls, args.concurrency, args.per_host))
    print(f"{len(urls)} URLs fetched", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
