"""The commented starter `linkfresh.toml` that `linkfresh init` writes (pure)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from linkfresh.config.settings import (
    CheckSettings,
    FeedSettings,
    ScheduleSettings,
    Settings,
    TopicSettings,
)


def _string(value: str) -> str:
    # A JSON string is a valid TOML basic string for everything json.dumps emits.
    return json.dumps(value, ensure_ascii=False)


def _strings(values: Sequence[str]) -> str:
    return "[" + ", ".join(_string(value) for value in values) + "]"


def starter_config(
    guides: Sequence[str], topics: Sequence[TopicSettings], feeds: Sequence[FeedSettings]
) -> str:
    """A complete, commented config; defaults are shown commented out."""
    defaults = Settings()
    check = CheckSettings()
    schedule = ScheduleSettings()
    lines = [
        "# linkfresh configuration. Every key has a default; uncomment to change one.",
        "# Environment variables override keys, e.g. LINKFRESH_CHECK__CONCURRENCY=8.",
        "",
        "# The guides to check; paths are relative to this file. Empty: the bundled LLM guide.",
        f"guides = {_strings(guides)}",
        "",
        "# Where history is kept: a SQLite path or any SQLAlchemy URL.",
        f"# database = {_string(defaults.database)}",
        "# Where digests are written.",
        f"# reports_dir = {_string(defaults.reports_dir)}",
        "",
        "[check]",
        f"# concurrency = {check.concurrency}        # requests in flight at once",
        f"# per_host = {check.per_host}             # requests in flight per host",
        f"# min_interval = {check.min_interval}       # seconds between requests to one host",
        f"# link_deadline = {check.link_deadline}     # seconds per link, retries included",
        f"# body_deadline = {check.body_deadline}     # seconds to read a body after the headers",
        f"# retries = {check.retries}",
        f"# retry_after_cap = {check.retry_after_cap}   # longest Retry-After honoured",
        '# user_agent = ""            # empty: linkfresh/<version> (+<project url>)',
        '# exclude = ["^https://example\\\\.com/private/"]   # regexes of URLs never checked',
        "# accept = [999]             # extra statuses to call ok",
        f"# recheck_after_hours = {check.recheck_after_hours}   # skip links recently ok",
        f"# confirm_after = {check.confirm_after}        # failed runs before broken",
        f"# confirm_span_hours = {check.confirm_span_hours}  # ...spanning this many hours",
        '# fail_on = ["broken"]       # what makes `check` exit 1: broken, unverified, redirect',
        '# [check.headers."example.com"]',
        '# Authorization = "Bearer ..."',
        "",
        "[arxiv]",
        "# max_per_topic = 1000      # ceiling: pages are read until the window is covered",
        "# lookback_days = 14         # how far back the first collection looks",
        "# delay = 3.0                # seconds between requests, as arXiv's terms ask",
        "",
        "[schedule]                   # standard cron: 1 = Monday; day names work too",
        f"# check = {_string(schedule.check)}",
        f"# collect = {_string(schedule.collect)}",
        f"# digest = {_string(schedule.digest)}",
        f"# timezone = {_string(schedule.timezone)}",
        "",
    ]
    lines += [
        "# Topics to collect new papers and posts for (derived from the guide's steps).",
        "# An item's relevance: 3 per keyword or model name (`names`) in its title, up to 3",
        "# more from keywords in its abstract; a term of `exclude` in the title rules the",
        "# topic out. `threshold` (default 3.5; 3 without an abstract) is what it needs.",
        "# arXiv reads a quoted phrase as its words in any order, and stems every word.",
    ]
    for topic in topics:
        lines += [
            "[[topics]]",
            f"name = {_string(topic.name)}",
            f"section = {_string(topic.section)}",
            f"arxiv_query = {_string(topic.arxiv_query)}",
            f"keywords = {_strings(topic.keywords)}",
        ]
        if topic.names:
            lines.append(f"names = {_strings(topic.names)}")
        if topic.exclude:
            lines.append(f"exclude = {_strings(topic.exclude)}")
        if topic.threshold is not None:
            lines.append(f"threshold = {topic.threshold}")
        lines.append("")
    lines.append(
        "# Blogs: a feed URL, or a site whose feed is discovered (kind = auto|feed|site|listing)."
    )
    if not feeds:
        lines += ["# [[feeds]]", '# name = "Example blog"', '# url = "https://example.com/"', ""]
    for feed in feeds:
        lines += [
            "[[feeds]]",
            f"name = {_string(feed.name)}",
            f"url = {_string(feed.url)}",
            f"kind = {_string(feed.kind)}",
            "",
        ]
    return "\n".join(lines)
