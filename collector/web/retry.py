"""The one retry predicate of the link checker, the backoff, and `Retry-After` parsing."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum


class Failure(StrEnum):
    """Why an attempt got no usable HTTP answer; stored as `CheckResult.error_class`."""

    CONNECT_TIMEOUT = "connect-timeout"  # no TCP answer at all
    TIMEOUT = "timeout"  # read, write or pool timeout
    DEADLINE = "deadline"  # the per-link or run-wide deadline ran out
    RESET = "reset"  # connection reset / closed mid-answer
    PROTOCOL = "protocol"  # malformed HTTP
    REFUSED = "refused"  # nothing listening / unreachable
    NO_HOST = "no-host"  # DNS: no such host
    TLS = "tls"  # certificate or handshake failure
    BLOCKED = "blocked"  # not http(s), or a hop resolves to a non-public address
    REDIRECT_LOOP = "redirect-loop"
    TOO_MANY_REDIRECTS = "too-many-redirects"
    BAD_URL = "bad-url"


# Failures that say "could not reach the host at all": the evidence for "network down".
NETWORK_FAILURES = frozenset({Failure.CONNECT_TIMEOUT, Failure.REFUSED, Failure.NO_HOST})


# Failures that say "nothing there": retried once after a pause, never more.
UNREACHABLE = frozenset({Failure.REFUSED, Failure.NO_HOST})

# Failures that cost a whole timeout each time they happen.
TIMEOUTS = frozenset({Failure.CONNECT_TIMEOUT, Failure.TIMEOUT})


class Retry(StrEnum):
    NO = "no"
    BACKOFF = "backoff"  # exponential backoff with jitter
    ONCE = "once"  # one more try after `dns_retry_pause`, then give up
    AFTER = "after"  # wait what the server asked (Retry-After), if within the cap


@dataclass(frozen=True, slots=True)
class RetryPlan:
    kind: Retry
    delay: float = 0.0


def retry_plan(
    status: int | None,
    failure: Failure | None,
    attempt: int,
    *,
    retries: int,
    backoff: float,
    dns_pause: float,
    retry_after: float | None,
    rng: random.Random | None = None,
    timeout_retries: int = 0,
) -> RetryPlan:
    """Whether (and after how long) to try again, given attempt number `attempt` (0-based).

    | outcome                          | retried                  | why                        |
    |----------------------------------|--------------------------|----------------------------|
    | connect timeout                  | backoff, once            | a lost SYN, a network flake|
    | read timeout                     | `timeout_retries` (0)    | costly evidence: see below |
    | reset, malformed answer          | backoff, up to `retries` | transient on busy networks |
    | 5xx except 501                   | backoff (or Retry-After) | transient server trouble   |
    | 501 Not Implemented              | no                       | permanent by definition    |
    | 408 Request Timeout              | backoff                  | RFC 9110 §15.5.9           |
    | 429 Too Many Requests            | Retry-After, or backoff  | RFC 6585 §4                |
    | no such host, refused            | once, after a pause      | CI DNS/networks flake      |
    | TLS, blocked address, loops      | no                       | do not heal within a run   |
    | 2xx, 3xx, 404, 410, other 4xx    | no                       | an answer, not a hiccup    |

    A read timeout means the server took the request and sent nothing for the whole read
    timeout, while TCP re-sent whatever was lost: asking again costs another whole timeout
    and rarely changes the answer (a stalled page asked four times cost 47 s at a 10 s
    timeout), and the history confirms a failure across runs anyway.
    `retry_after` is the server's Retry-After in seconds (already parsed); the caller
    compares it with the cap, since past the cap the link is unverified, not retried.
    """
    if failure in UNREACHABLE:
        return RetryPlan(Retry.ONCE, dns_pause) if attempt == 0 else RetryPlan(Retry.NO)
    if attempt >= retries or (
        (failure is Failure.CONNECT_TIMEOUT and attempt >= 1)
        or (failure is Failure.TIMEOUT and attempt >= timeout_retries)
    ):
        return RetryPlan(Retry.NO)
    transient_failure = failure in (*TIMEOUTS, Failure.RESET, Failure.PROTOCOL)
    transient_status = status is not None and (
        status in (408, 429) or (500 <= status <= 599 and status != 501)
    )
    if not (transient_failure or transient_status):
        return RetryPlan(Retry.NO)
    if retry_after is not None and status in (429, 503):
        return RetryPlan(Retry.AFTER, retry_after)
    return RetryPlan(Retry.BACKOFF, backoff_delay(attempt, backoff, rng))


def backoff_delay(attempt: int, base: float, rng: random.Random | None = None) -> float:
    """`base * 2**attempt`, with "equal jitter": between half and all of it."""
    full = base * (2**attempt)
    return full / 2 + (rng or random).uniform(0, full / 2)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` value (RFC 9110 §10.2.3).

    Either delay-seconds (a non-negative integer) or an HTTP-date; a date in the past means
    "now" (0). Anything else is ignored (None) rather than trusted.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit() alone accepts "²"
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
