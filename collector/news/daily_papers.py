"""Hugging Face's daily papers (https://huggingface.co/papers), the arXiv papers its
community picked each day, as arXiv id -> upvotes: the digest's tie-breaker between equally
relevant papers, never a reason to list one. Unreachable means no marks, not a failed digest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import httpx

from linkfresh.collector.web.client import read_capped

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
_ARXIV_ID = re.compile(r"^\d{4}\.\d{4,5}$")


@dataclass(frozen=True, slots=True)
class DailyPapers:
    """The picks found (arXiv id without version -> upvotes) and why reading stopped, if it did."""

    picked: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def parse_daily_papers(body: bytes) -> dict[str, int]:
    """Picks in one `/api/daily_papers` reply: a JSON list of `{"paper": {"id", "upvotes"}}`.

    Entries without a modern arXiv id are skipped; a reply that is not a JSON list raises
    `ValueError` with what was wrong.
    """
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(data, list):
        raise ValueError(f"a JSON {type(data).__name__}, not a list of papers")
    picked: dict[str, int] = {}
    for entry in data:
        paper = entry.get("paper") if isinstance(entry, dict) else None
        arxiv_id = paper.get("id") if isinstance(paper, dict) else None
        if not isinstance(arxiv_id, str) or not _ARXIV_ID.match(arxiv_id):
            continue
        upvotes = paper.get("upvotes")
        votes = upvotes if isinstance(upvotes, int) and not isinstance(upvotes, bool) else 0
        picked[arxiv_id] = max(picked.get(arxiv_id, 0), max(votes, 0))
    return picked


async def fetch_daily_papers(
    client: httpx.AsyncClient, base_url: str, days: Sequence[date],
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> DailyPapers:
    """The picks of each of `days` (`base_url?date=YYYY-MM-DD`), one request a day.

    The first failure stops the reading (the service is down, or answers something else):
    the picks found so far are kept and `error` says what happened.
    """
    picked: dict[str, int] = {}
    for day in days:
        try:
            async with client.stream("GET", base_url, params={"date": day.isoformat()},
                                     headers={"Accept": "application/json"},
                                     follow_redirects=True) as response:
                if response.status_code != 200:
                    return DailyPapers(picked, f"HTTP {response.status_code} for {day}")
                body = await read_capped(response, max_bytes)
            if body.truncated or body.decode_error:
                return DailyPapers(picked, body.decode_error or f"larger than {max_bytes} bytes")
            for arxiv_id, votes in parse_daily_papers(body.data).items():
                picked[arxiv_id] = max(picked.get(arxiv_id, 0), votes)
        except ValueError as error:
            return DailyPapers(picked, f"unreadable reply for {day}: {error}")
        except (httpx.HTTPError, httpx.InvalidURL) as error:  # refused, blocked, unknown host
            return DailyPapers(picked, f"{error.__class__.__name__}: {error}"[:200])
    return DailyPapers(picked)
