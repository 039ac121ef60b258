"""Turning an `Answer` into a `LinkState` with its evidence (pure): what is dead, what is
merely unverifiable, and what moved.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from linkfresh.collector.check.fetch import PERMANENT_REDIRECTS, Answer
from linkfresh.collector.check.pages import (
    bot_wall_sign,
    fragment_present,
    redirected_to_root,
    soft_404_sign,
)
from linkfresh.collector.check.parking import parked_sign
from linkfresh.collector.types import LinkState
from linkfresh.collector.web.retry import Failure

# Statuses that say "you may not look", not "it is gone": 999 is LinkedIn's bot answer.
BOT_STATUSES = frozenset({401, 403, 999})
GONE_STATUSES = frozenset({404, 410})

_FAILURE_STATES: dict[Failure, LinkState] = {
    Failure.CONNECT_TIMEOUT: LinkState.TIMEOUT,
    Failure.TIMEOUT: LinkState.TIMEOUT,
    Failure.DEADLINE: LinkState.TIMEOUT,
    Failure.RESET: LinkState.ERROR,
    Failure.PROTOCOL: LinkState.ERROR,
    Failure.TOO_MANY_REDIRECTS: LinkState.ERROR,
    Failure.REFUSED: LinkState.BROKEN,
    Failure.NO_HOST: LinkState.BROKEN,
    Failure.TLS: LinkState.BROKEN,
    Failure.REDIRECT_LOOP: LinkState.BROKEN,
    # A guide link that leads into a private network is dead for every reader.
    Failure.BLOCKED: LinkState.BROKEN,
    Failure.BAD_URL: LinkState.BROKEN,
}


@dataclass(frozen=True, slots=True)
class Verdict:
    state: LinkState
    detail: str | None = None


def is_ok_status(status: int, accept: Collection[int] = ()) -> bool:
    """2xx, 304 (the validators we sent still match), or a status the config accepts."""
    return 200 <= status < 300 or status == 304 or status in accept


def judge(
    answer: Answer,
    *,
    fragment: str = "",
    accept: Collection[int] = (),
    probe: Answer | None = None,
    rate_limited: str | None = None,
) -> Verdict:
    """The verdict on one URL (with `fragment`) from the last attempt's `answer`.

    `probe` is the host's answer to a path that cannot exist, when one was fetched;
    `rate_limited` explains a Retry-After past the cap (the link is then unverified).
    """
    if rate_limited:
        return Verdict(LinkState.UNVERIFIED, rate_limited)
    if answer.failure is not None:
        return Verdict(_FAILURE_STATES[answer.failure], answer.error)
    status = answer.status
    assert status is not None
    wall = bot_wall_sign(answer.headers, answer.page)
    if wall:
        return Verdict(LinkState.UNVERIFIED, wall)
    if status in accept:
        return Verdict(LinkState.OK, f"status {status} accepted by config")
    if status in BOT_STATUSES:
        return Verdict(LinkState.UNVERIFIED, f"HTTP {status}: access refused, not proven dead")
    if status == 429:
        return Verdict(LinkState.UNVERIFIED, "HTTP 429: rate limited through every retry")
    if status in GONE_STATUSES:
        return Verdict(LinkState.BROKEN, f"HTTP {status}")
    if not is_ok_status(status, accept):
        return Verdict(LinkState.ERROR, f"HTTP {status}")
    parked = parked_sign(answer, probe)
    if parked:
        return Verdict(LinkState.PARKED, parked)
    soft = _soft_404(answer, probe)
    if soft:
        return Verdict(LinkState.BROKEN, soft)
    if fragment and answer.page is not None:
        present = fragment_present(fragment, answer.page)
        if present is False and not answer.truncated:
            return Verdict(LinkState.BROKEN, f"#{fragment} not found on the page")
    if any(hop.status in PERMANENT_REDIRECTS for hop in answer.chain):
        return Verdict(LinkState.REDIRECTED, f"moved permanently to {answer.final_url}")
    # A page whose body was still arriving has answered: it is up (issue 13, item 3).
    return Verdict(LinkState.OK, answer.cut_short)


def _soft_404(answer: Answer, probe: Answer | None) -> str | None:
    if answer.status == 304:
        return None
    if answer.page is not None:
        sign = soft_404_sign(answer.page)
        if sign:
            return sign
    if answer.chain and redirected_to_root(answer.url, answer.final_url):
        return f"soft 404: deep link redirected to the site root {answer.final_url}"
    if (
        probe is not None
        and answer.chain
        and probe.status is not None
        and is_ok_status(probe.status)
        and probe.final_url == answer.final_url
    ):
        return f"soft 404: redirected to {answer.final_url}, where a nonexistent path also lands"
    return None


def needs_probe(answer: Answer) -> bool:
    """Only a 200 reached through redirects is worth comparing with a nonexistent path."""
    return (
        answer.failure is None
        and answer.status is not None
        and 200 <= answer.status < 300
        and bool(answer.chain)
        and answer.final_url != answer.url
    )
