"""The settings model: every key, its default and its validation.

Defaults are named here once; `loader.py` reads the TOML file and the environment.
"""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from linkfresh.config.accept import parse_accept

DEFAULT_DATABASE = "sqlite:///linkfresh.db"
DEFAULT_REPORTS_DIR = "reports"
DEFAULT_ARXIV_URL = "https://export.arxiv.org/api/query"
DEFAULT_ARCHIVE_URL = "https://archive.org/wayback/available"
DEFAULT_DAILY_PAPERS_URL = "https://huggingface.co/api/daily_papers"
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_GUIDE_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_FEED_BYTES = 5 * 1024 * 1024


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckSettings(_Section):
    """`[check]`: how links are checked."""

    concurrency: int = Field(64, ge=1, le=1024, description="requests in flight at once")
    per_host: int = Field(4, ge=1, le=64, description="requests in flight per host")
    min_interval: float = Field(0.0, ge=0, description="seconds between requests to one host")
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(20.0, gt=0)
    link_deadline: float = Field(60.0, gt=0, description="seconds per link, retries included")
    body_deadline: float = Field(
        10.0, gt=0, description="seconds to read a page's body after its headers; then the "
        "page is judged on what arrived"
    )
    stalled_host_timeout: float = Field(
        5.0, gt=0, description="connect/read timeout, once a host has timed out in a run, for "
        "its retries and later requests (capped by connect_timeout / read_timeout)"
    )
    run_deadline: float = Field(1800.0, gt=0, description="seconds for the whole check")
    retries: int = Field(3, ge=0, le=10, description="retries of transient failures")
    timeout_retries: int = Field(
        0, ge=0, le=3, description="retries of a read timeout (each costs a whole timeout)"
    )
    backoff: float = Field(1.0, ge=0, description="first retry delay in seconds, doubled each time")
    retry_after_cap: float = Field(60.0, ge=0, description="longest Retry-After honoured")
    dns_retry_pause: float = Field(2.0, ge=0, description="pause before re-trying DNS/refused")
    max_redirects: int = Field(10, ge=0, le=50)
    max_body_bytes: int = Field(DEFAULT_MAX_BODY_BYTES, ge=1024)
    max_guide_bytes: int = Field(DEFAULT_MAX_GUIDE_BYTES, ge=1024)
    user_agent: str = Field("", description="empty: linkfresh/<version> (+<project url>)")
    headers: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="extra request headers per host"
    )
    accept: list[int] = Field(
        default_factory=list,
        description="extra statuses to treat as ok: codes or ranges (999, \"400..=403\")",
    )
    exclude: list[str] = Field(default_factory=list, description="regexes of URLs not checked")
    allow_private: bool = Field(False, description="allow private/loopback addresses")
    soft_404_probe: bool = Field(True, description="compare with a random path on the host")
    head_first: Literal["files", "always", "never"] = Field(
        "files", description="HEAD before GET: for file-like URLs (.pdf, .zip...), always, never"
    )
    recheck_after_hours: float = Field(20.0, ge=0)
    confirm_after: int = Field(2, ge=1, description="failed runs before a link is broken")
    confirm_span_hours: float = Field(6.0, ge=0, description="hours the failures must span")
    flapping_changes: int = Field(4, ge=2, description="state flips in the window = flapping")
    retention_days: int = Field(30, ge=1, description="keep every result this long")
    fail_on: list[Literal["broken", "unverified", "redirect", "changed"]] = Field(
        default_factory=lambda: ["broken"]
    )

    @field_validator("accept", mode="before")
    @classmethod
    def _status_ranges(cls, value: object) -> list[int]:
        items = [value] if isinstance(value, int | str) else value
        if not isinstance(items, list | tuple):
            raise ValueError("expected a list of status codes or ranges such as \"200..=204\"")
        return parse_accept(items)

    @field_validator("exclude")
    @classmethod
    def _valid_patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(
                    f"{pattern!r} is not a valid regular expression: {error}"
                ) from None
        return patterns


class ArxivSettings(_Section):
    """`[arxiv]`: the arXiv API (https://info.arxiv.org/help/api/tou.html)."""

    base_url: str = DEFAULT_ARXIV_URL
    max_per_topic: int = Field(
        1000, ge=1, le=10000, description="safety ceiling; pages are read until the window ends"
    )
    page_size: int = Field(50, ge=1, le=2000)
    delay: float = Field(3.0, ge=0, description="seconds between requests (arXiv asks for 3)")
    retries: int = Field(3, ge=0, le=10)
    backoff: float = Field(5.0, ge=0, description="first retry pause in seconds, doubled each time")
    timeout: float = Field(30.0, gt=0, description="seconds before a stalled reply is given up")
    lookback_days: int = Field(14, ge=1)
    categories: list[str] = Field(default_factory=list, description="e.g. cs.CL; empty: any")


class TopicSettings(_Section):
    """`[[topics]]`: one topic to collect news for."""

    name: str = Field(min_length=1)
    arxiv_query: str = ""
    keywords: list[str] = Field(default_factory=list, description="terms making an item relevant")
    names: list[str] = Field(default_factory=list, description="model names, counted in titles")
    exclude: list[str] = Field(default_factory=list, description="in a title: not this topic")
    threshold: float | None = Field(None, ge=0, description="score an item needs; None: default")
    section: str = ""


class FeedSettings(_Section):
    """`[[feeds]]`: a blog: a feed URL, a site to discover the feed on, or a listing page."""

    name: str = Field(min_length=1)
    url: str = Field(min_length=1)
    kind: Literal["auto", "feed", "site", "listing"] = "auto"
    max_bytes: int = Field(DEFAULT_MAX_FEED_BYTES, ge=1024, description="larger replies fail")

    @field_validator("url")
    @classmethod
    def _http_only(cls, url: str) -> str:
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return url


class DigestSettings(_Section):
    """`[digest]`: the weekly digest."""

    per_topic: int = Field(5, ge=1, description="papers and posts listed per topic")
    archive_url: str = DEFAULT_ARCHIVE_URL
    archive_lookup: bool = True
    daily_papers: bool = Field(True, description="mark papers Hugging Face's community picked")
    daily_papers_url: str = DEFAULT_DAILY_PAPERS_URL


class ScheduleSettings(_Section):
    """`[schedule]`: cron strings (standard cron: 0 or 7 = Sunday, 1 = Monday)."""

    check: str = "0 6 * * *"
    collect: str = "30 6 * * *"
    digest: str = "0 8 * * mon"
    timezone: str = "UTC"
    misfire_grace: float = Field(3600.0, ge=1)
    shutdown_grace: float = Field(30.0, ge=0)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r}") from None
        return zone

    @field_validator("check", "collect", "digest")
    @classmethod
    def _five_fields(cls, expression: str) -> str:
        # Six fields are accepted too: a leading seconds field (used by tests and demos).
        if len(expression.split()) not in (5, 6):
            raise ValueError(f"{expression!r} is not a 5-field cron expression")
        return expression


class WorkerSettings(_Section):
    """`[worker]`: `linkfresh worker` processes sharing one database."""

    lease_seconds: float = Field(
        120.0, gt=0, description="a killed worker's links return to the pool after this")
    links_per_slot: int = Field(
        8, ge=1, le=1000, description="links claimed per host slot held, per batch")
    poll_seconds: float = Field(30.0, gt=0, description="wait between looks when idle")


class Settings(_Section):
    """The whole configuration; every key has a default."""

    guides: list[str] = Field(default_factory=list, description="empty: the bundled guide")
    database: str = DEFAULT_DATABASE
    reports_dir: str = DEFAULT_REPORTS_DIR
    check: CheckSettings = Field(default_factory=CheckSettings)
    arxiv: ArxivSettings = Field(default_factory=ArxivSettings)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    topics: list[TopicSettings] | None = Field(
        None, description="None: the bundled list for the bundled guide, else from the guide"
    )
    feeds: list[FeedSettings] | None = Field(None, description="None: the bundled blogs")
