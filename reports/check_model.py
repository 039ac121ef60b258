"""The data a check report is rendered from: results joined with where they stand in the guide."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from linkfresh.collector.types import CheckResult, Link, LinkState

CHECK_REPORT_SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class LinkReport:
    """One checked URL and every place in the guide(s) where it is written."""

    result: CheckResult
    links: tuple[Link, ...]


@dataclass(frozen=True, slots=True)
class CheckReport:
    """A whole check run, ready to render: no clock or I/O needed by a renderer."""

    guides: tuple[str, ...]
    started_at: datetime
    finished_at: datetime
    items: tuple[LinkReport, ...]
    network_down: bool = False

    def counts(self) -> Counter[LinkState]:
        return Counter(item.result.state for item in self.items)
