"""Web Archive lookups: the closest snapshot of a broken link, via the availability API.

See https://archive.org/help/wayback_api.php. Outcomes are values (`ArchiveLookup`), never
exceptions; caching across runs is storage's business, `lookup_snapshots` takes a mapping.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx

from linkfresh.collector.web.client import read_capped
from linkfresh.config.settings import DEFAULT_ARCHIVE_URL

DEFAULT_TIMEOUT = 20.0
# The availability answer is a few hundred bytes; anything much larger is not it.
MAX_ANSWER_BYTES = 64 * 1024
_TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"
# Wayback answers with http:// snapshot URLs; the same snapshot is served over https.
_ARCHIVE_HOSTS = frozenset({"web.archive.org", "archive.org"})


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An archived copy: its URL, capture time (`YYYYMMDDhhmmss`, UTC) and archived status."""

    url: str
    timestamp: str
    status: str | None = None

    @property
    def captured_at(self) -> datetime | None:
        try:
            return datetime.strptime(self.timestamp, _TIMESTAMP_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class ArchiveLookup:
    """The answer for one URL: a snapshot, or None with `error` saying why (None if simply none)."""

    url: str
    snapshot: Snapshot | None
    error: str | None = None

    @property
    def found(self) -> bool:
        return self.snapshot is not None


def cache_key(url: str, near: datetime | None = None) -> str:
    """The key under which a lookup may be cached: the URL and the day it should be near."""
    return f"{_utc(near).date().isoformat() if near else '-'} {url}"


def query_params(url: str, near: datetime | None = None) -> dict[str, str]:
    """The availability API's query: the URL, and the time the snapshot should be close to."""
    params = {"url": url}
    if near is not None:
        params["timestamp"] = _utc(near).strftime(_TIMESTAMP_FORMAT)
    return params


def parse_availability(url: str, data: bytes) -> ArchiveLookup:
    """Read an availability answer; a snapshot only when it is available and archived a 2xx."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        return ArchiveLookup(url, None, f"invalid JSON from the archive: {error}")
    snapshots = document.get("archived_snapshots") if isinstance(document, dict) else None
    if not isinstance(snapshots, dict):
        return ArchiveLookup(url, None, "unexpected answer from the archive: no archived_snapshots")
    closest = snapshots.get("closest")
    if not closest:
        return ArchiveLookup(url, None)
    if not isinstance(closest, dict):
        return ArchiveLookup(url, None, "unexpected answer from the archive (closest)")
    snapshot_url, status = closest.get("url"), closest.get("status")
    if closest.get("available") is False or not isinstance(snapshot_url, str):
        return ArchiveLookup(url, None)
    if status is not None and not str(status).startswith("2"):
        # An archived 404 or redirect is no replacement for the page the guide meant.
        return ArchiveLookup(url, None)
    snapshot_url = _https(snapshot_url)
    if snapshot_url is None:
        return ArchiveLookup(url, None, "the archive answered a snapshot URL that is not http(s)")
    timestamp = closest.get("timestamp")
    return ArchiveLookup(
        url, Snapshot(snapshot_url, str(timestamp or ""), None if status is None else str(status))
    )


async def lookup_snapshot(
    client: httpx.AsyncClient,
    url: str,
    *,
    near: datetime | None = None,
    base_url: str = DEFAULT_ARCHIVE_URL,
    timeout: float = DEFAULT_TIMEOUT,
) -> ArchiveLookup:
    """Ask the availability API for the snapshot of `url` closest to `near` (or the newest).

    Network errors, non-200 answers and bad JSON come back as `ArchiveLookup.error`.
    """
    try:
        # `timeout` bounds the whole answer, not each read: a server dripping bytes never
        # trips a read timeout.
        async with asyncio.timeout(timeout), client.stream(
            "GET", base_url, params=query_params(url, near), timeout=timeout,
            headers={"Accept": "application/json"},
        ) as response:
            if response.status_code != 200:
                reason = f"the archive answered HTTP {response.status_code}"
                return ArchiveLookup(url, None, reason)
            body = await read_capped(response, MAX_ANSWER_BYTES)
    except (httpx.TimeoutException, TimeoutError):
        return ArchiveLookup(url, None, f"the archive did not answer within {timeout:g} s")
    except httpx.HTTPError as error:
        reason = str(error) or type(error).__name__
        return ArchiveLookup(url, None, f"the archive could not be reached: {reason}")
    if body.truncated:
        return ArchiveLookup(url, None, f"the archive's answer is over {MAX_ANSWER_BYTES} bytes")
    if body.decode_error:
        return ArchiveLookup(url, None, body.decode_error)
    return parse_availability(url, body.data)


async def lookup_snapshots(
    client: httpx.AsyncClient,
    wanted: Iterable[tuple[str, datetime | None]],
    *,
    cache: MutableMapping[str, ArchiveLookup] | None = None,
    base_url: str = DEFAULT_ARCHIVE_URL,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, ArchiveLookup]:
    """Look up several `(url, near)` pairs one after another, reusing and filling `cache`.

    Sequential on purpose: only broken links are looked up, and the archive is a shared,
    rate-limited service. Failed lookups are not cached, so the next run tries again.
    """
    cache = {} if cache is None else cache
    found: dict[str, ArchiveLookup] = {}
    for url, near in wanted:
        key = cache_key(url, near)
        lookup = cache.get(key)
        if lookup is None:
            lookup = await lookup_snapshot(client, url, near=near, base_url=base_url,
                                           timeout=timeout)
            if lookup.error is None:
                cache[key] = lookup
        found[url] = lookup
    return found


def _https(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in _ARCHIVE_HOSTS:
        return urlunsplit(parts._replace(scheme="https"))
    return url


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
