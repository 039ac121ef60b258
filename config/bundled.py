"""The package data: the bundled LLM learning guide and its curated topics and blogs."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files
from pathlib import Path

from linkfresh.config.settings import FeedSettings, TopicSettings

BUNDLED_GUIDE_NAME = "llms-learning-guide.md"
_DATA = files("linkfresh.config") / "data"


def bundled_guide_path() -> Path:
    """Path of the guide linkfresh ships with (installed as a plain file)."""
    return Path(str(_DATA / BUNDLED_GUIDE_NAME))


@cache
def _bundled() -> dict[str, list[dict[str, object]]]:
    return tomllib.loads((_DATA / "bundled.toml").read_text(encoding="utf-8"))


def bundled_topics() -> list[TopicSettings]:
    """The curated topics of the bundled guide, each with an arXiv query and keywords."""
    return [TopicSettings.model_validate(topic) for topic in _bundled()["topics"]]


def bundled_feeds() -> list[FeedSettings]:
    """The blogs the bundled guide names, and the authors it links to."""
    return [FeedSettings.model_validate(feed) for feed in _bundled()["feeds"]]
