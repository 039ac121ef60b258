"""What happened to one news source in one run (an arXiv topic or a blog), as a value.

A failing source is a `SourceOutcome` with a reason, never an exception: the run goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SourceStatus(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not-modified"  # a conditional request answered 304
    FAILED = "failed"


class FailureKind(StrEnum):
    """Why a source failed; only `NETWORK` failures can mean "the network is down"."""

    NETWORK = "network"  # refused, unknown host, reset, timed out
    HTTP = "http"  # an error status that persisted through retries
    CONTENT = "content"  # not a feed, malformed, too big, entity tricks
    API = "api"  # the arXiv API answered with its own error entry
    BLOCKED = "blocked"  # a private address, refused by the address guard


class SourceKind(StrEnum):
    ARXIV = "arxiv"
    FEED = "feed"


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    """One source's result: status, how many items came back, and why it failed if it did.

    `url` is the URL actually read (a feed discovered on a site, say); `etag` and
    `last_modified` are the validators to send next time.
    """

    source: str
    kind: SourceKind
    status: SourceStatus
    items: int = 0
    reason: str | None = None
    failure: FailureKind | None = None
    url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    requests: int = 0
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not SourceStatus.FAILED

    @property
    def network_failure(self) -> bool:
        return self.failure is FailureKind.NETWORK

    def summary(self) -> str:
        """One line for people: `arxiv Transformer architecture: ok, 12 new`."""
        match self.status:
            case SourceStatus.OK:
                text = f"ok, {self.items} item{'s' if self.items != 1 else ''}"
            case SourceStatus.NOT_MODIFIED:
                text = "not modified"
            case SourceStatus.FAILED:
                text = f"FAILED ({self.failure}): {self.reason}"
        if self.note:
            text = f"{text} [{self.note}]"
        return f"{self.kind} {self.source}: {text}"


def failed(
    source: str,
    kind: SourceKind,
    failure: FailureKind,
    reason: str,
    *,
    url: str | None = None,
    requests: int = 0,
) -> SourceOutcome:
    """Shorthand for a failed outcome."""
    return SourceOutcome(source, kind, SourceStatus.FAILED, reason=reason, failure=failure,
                         url=url, requests=requests)
