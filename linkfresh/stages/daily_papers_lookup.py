"""Hugging Face's daily papers for the digest's period: which of its papers the community
picked (a tie-breaker and a mark), read only when the period has papers and the lookup is on.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

from linkfresh.clients import http_client
from linkfresh.collector.news.daily_papers import DailyPapers, fetch_daily_papers
from linkfresh.context import AppContext
from linkfresh.reports.digest_model import FailedSource

# A digest over a longer period asks for its last month only: a request per day.
MAX_DAYS = 31
SOURCE_NAME = "Hugging Face daily papers"


def period_days(start: datetime, end: datetime) -> list[date]:
    """The calendar days (UTC) of `[start, end)`, the last `MAX_DAYS` of them."""
    last = (end - timedelta(microseconds=1)).date()
    first = max(start.date(), last - timedelta(days=MAX_DAYS - 1))
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def daily_picks(app: AppContext, start: datetime, end: datetime, has_papers: bool
                ) -> tuple[dict[str, int], FailedSource | None]:
    """arXiv id -> upvotes of the period's picks, and the failure to report, if any."""
    settings = app.settings.digest
    if not settings.daily_papers or not has_papers:
        return {}, None
    found = asyncio.run(_fetch(app, period_days(start, end)))
    failure = (FailedSource("daily papers", SOURCE_NAME, found.error, settings.daily_papers_url)
               if found.error else None)
    return found.picked, failure


async def _fetch(app: AppContext, days: list[date]) -> DailyPapers:
    async with http_client(app.settings.check) as client:
        return await fetch_daily_papers(client, app.settings.digest.daily_papers_url, days)
