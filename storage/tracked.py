"""Between a `resource` row and the pure `Tracked` state: loading it, and the column values
a new result and its transition give the row (validators, evidence, content changes).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from linkfresh.collector.types import CheckResult, LinkState
from linkfresh.storage.state import Tracked, Verdict

NOT_MODIFIED = 304


def tracked_from_row(row: Any) -> Tracked:
    """The state carried by a `resource` row (ORM object or Core row)."""
    get = row._mapping.get if hasattr(row, "_mapping") else lambda key: getattr(row, key)
    return Tracked(
        verdict=Verdict(get("verdict")),
        since=get("since"),
        failures=get("failures") or 0,
        failing_since=get("failing_since"),
        broken_since=get("broken_since"),
        last_ok=get("last_ok"),
        flips=tuple(datetime.fromisoformat(flip) for flip in get("flips") or ()),
    )


def resource_values(old: Mapping[str, Any], after: Tracked, result: CheckResult) -> dict[str, Any]:
    """The resource's columns after `result` moved it to `after`.

    Validators: a 304 keeps the stored ones unless new ones came with it (RFC 9110 §15.4.5);
    any other good answer replaces them; a failure leaves them alone. A different ETag or
    Last-Modified on a full answer is a content change.
    """
    values = dict(old)
    answered = result.state in (LinkState.OK, LinkState.REDIRECTED, LinkState.CHANGED)
    full_answer = answered and result.status != NOT_MODIFIED
    etag, modified = old.get("etag"), old.get("last_modified")
    if full_answer:
        etag, modified = result.etag, result.last_modified
    elif answered:
        etag, modified = result.etag or etag, result.last_modified or modified
    changed = full_answer and (
        (old.get("etag") and etag and etag != old.get("etag"))
        or (old.get("last_modified") and modified and modified != old.get("last_modified")))
    values.update(
        verdict=str(after.verdict),
        since=after.since,
        failures=after.failures,
        failing_since=after.failing_since,
        broken_since=after.broken_since,
        last_ok=after.last_ok,
        flips=[flip.isoformat() for flip in after.flips],
        last_checked=result.checked_at,
        last_state=str(result.state),
        last_status=result.status,
        last_error=result.error,
        last_final_url=result.final_url,
        etag=etag,
        last_modified=modified,
        title=result.title if result.title is not None else old.get("title"),
    )
    if changed:
        values["content_changed_at"] = result.checked_at
    return values
