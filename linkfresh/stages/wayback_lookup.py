"""Web Archive snapshots for the digest's broken links: answers are cached in the database,
and only URLs with no recent answer are looked up (never when `digest.archive_lookup` is off).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from linkfresh.clients import http_client
from linkfresh.collector.check.wayback import ArchiveLookup, lookup_snapshots
from linkfresh.context import AppContext
from linkfresh.storage.sources import cached_snapshots, save_snapshots

# A copy found stays found; "no copy" may change as the archive crawls, so answers of
# either kind are asked again after this long.
SNAPSHOT_MAX_AGE = timedelta(days=30)


def snapshots_for(
    app: AppContext,
    engine: Engine,
    urls: Iterable[str],
    now: datetime,
    *,
    near: Mapping[str, datetime] | None = None,
) -> dict[str, tuple[str, date | None]]:
    """The closest archived copy of each of `urls` that has one: `(snapshot URL, captured on)`.

    Cached answers younger than `SNAPSHOT_MAX_AGE` are used as they are; the rest are asked of
    the availability API at `digest.archive_url` (one after another) and stored, unless
    `digest.archive_lookup` is false, in which case only the cache answers. A failed lookup
    is not stored, so the next digest asks again. `near[url]` (say, when the link was last
    ok) asks for the copy closest to that time rather than the newest.
    """
    settings = app.settings.digest
    wanted = list(dict.fromkeys(urls))
    answers = cached_snapshots(engine, wanted, now, SNAPSHOT_MAX_AGE)
    missing = [url for url in wanted if url not in answers]
    if missing and settings.archive_lookup:
        pairs = [(url, (near or {}).get(url)) for url in missing]
        looked_up = asyncio.run(_look_up(app, pairs))
        save_snapshots(engine, looked_up.values(), now)
        answers.update((lookup.url, (lookup.snapshot.url, lookup.snapshot.captured_at)
                        if lookup.snapshot else (None, None))
                       for lookup in looked_up.values() if lookup.error is None)
    return {
        url: (snapshot, captured.date() if captured else None)
        for url, (snapshot, captured) in sorted(answers.items())
        if snapshot is not None
    }


async def _look_up(app: AppContext, pairs: list[tuple[str, datetime | None]]
                   ) -> dict[str, ArchiveLookup]:
    async with http_client(app.settings.check) as client:
        return await lookup_snapshots(client, pairs, base_url=app.settings.digest.archive_url)
