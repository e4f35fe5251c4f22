"""What an HTTP outcome means for an event, and how long to wait before trying it again.

Status classes (README, "Sending live"): 2xx delivered; 408, 429 and every 5xx except 501 and 505
transient, like connection errors and timeouts; 401/403 stop the run; 3xx (redirects are never
followed), 501, 505 and every other 4xx permanent, dead-lettered at once.

Backoff is exponential from 0.5 s, capped at 60 s, with full jitter (a uniform draw in
``[0, min(cap, base * 2**n)]``), so that many senders recovering from one outage do not retry in
step. A ``Retry-After`` (seconds or an HTTP date) wins when it is longer; the wait is then clamped
to ``[1 s, 24 h]``. This is hand-written rather than tenacity or stamina: both wrap a call in a loop
that sleeps in the calling thread, while the sender schedules each event's next attempt itself
(so a waiting event holds neither a worker nor the events of other profiles).

``--retry-policy aep`` swaps in Adobe's documented best effort for this destination instead
(https://experienceleague.adobe.com/en/docs/experience-platform/destinations/destination-sdk/functionality/destination-configuration/rate-limiting-retry-policy):
403, 408, 409, 429, 500, 502, 503 and 504 are retried twice, after 15 s and 30 s, then the event is
dropped; any other answer drops it at once. Adobe does not say what happens on a connection error;
the harness treats it like a retried status (assumed).
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

from contracts.facts import RETRY_AFTER

__all__ = [
    "AEP_RETRY_STATUSES",
    "AEP_RETRY_WAITS",
    "RETRY_AFTER_MAX",
    "Backoff",
    "Verdict",
    "classify",
    "classify_aep",
    "parse_retry_after",
]

_TRANSIENT_STATUSES: Final = frozenset({408, 429})
_PERMANENT_5XX: Final = frozenset({501, 505})
_AUTH_STATUSES: Final = frozenset({401, 403})


class Verdict(enum.Enum):
    """What happens to an event after one attempt."""

    DELIVERED = "delivered"
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    AUTH = "auth"
    #: ``aep`` policy only: given up without a dead letter to replay, as AEP would.
    DROPPED = "dropped"


#: Statuses Adobe retries for a streaming destination; everything else is dropped at once.
AEP_RETRY_STATUSES: Final = frozenset({403, 408, 409, 429, 500, 502, 503, 504})
#: Adobe's waits before its two retries, in seconds.
AEP_RETRY_WAITS: Final = (15.0, 30.0)
#: The longest wait a ``Retry-After`` can ask for (trusted senders' rule: at most a day).
RETRY_AFTER_MAX: Final = float(RETRY_AFTER.max)
#: Digits of the longest delta-seconds worth converting: more than this is past the clamp.
_CEILING_DIGITS: Final = len(str(int(RETRY_AFTER_MAX)))


def classify(status_code: int) -> Verdict:
    """The verdict for an HTTP status code."""
    if 200 <= status_code < 300:
        return Verdict.DELIVERED
    if status_code in _AUTH_STATUSES:
        return Verdict.AUTH
    if status_code in _TRANSIENT_STATUSES or (
        500 <= status_code < 600 and status_code not in _PERMANENT_5XX
    ):
        return Verdict.TRANSIENT
    return Verdict.PERMANENT


def classify_aep(status_code: int | None) -> Verdict:
    """The verdict under Adobe's policy (``None``: a connection error, retried, assumed)."""
    if status_code is not None and 200 <= status_code < 300:
        return Verdict.DELIVERED
    if status_code is None or status_code in AEP_RETRY_STATUSES:
        return Verdict.TRANSIENT
    return Verdict.DROPPED


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (delta-seconds or HTTP date); ``None`` if unusable.

    A date in the past gives ``0.0``; garbage gives ``None`` (the backoff alone then applies).
    Whatever a server sends, this never raises: the header is the server's, not ours. Anything
    longer than ``RETRY_AFTER_MAX`` is ``RETRY_AFTER_MAX`` (the wait is clamped there anyway), and
    the digits are never handed to ``int()`` whole: 400 digits would overflow a float, and past
    4,300 digits ``int()`` itself refuses them.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        digits = text.lstrip("0") or "0"
        if len(digits) > _CEILING_DIGITS:
            return RETRY_AFTER_MAX
        return min(float(int(digits)), RETRY_AFTER_MAX)
    try:
        when = parsedate_to_datetime(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        current = now if now is not None else datetime.now(UTC)
        seconds = (when - current).total_seconds()
    except (TypeError, ValueError, IndexError, OverflowError, AttributeError):
        return None
    return min(max(0.0, seconds), RETRY_AFTER_MAX)


@dataclass(slots=True)
class Backoff:
    """Delays for retry ``attempt`` (1 = the first retry). Tests shrink every bound."""

    base: float = 0.5
    cap: float = 60.0
    retry_after_min: float = float(RETRY_AFTER.min)
    retry_after_max: float = RETRY_AFTER_MAX
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Full-jitter backoff; with ``retry_after``, the larger of both, clamped."""
        exponent = min(max(attempt - 1, 0), 62)
        ceiling = min(self.cap, self.base * (2.0**exponent))
        jittered = self.rng.uniform(0.0, ceiling)
        if retry_after is None:
            return jittered
        return min(self.retry_after_max, max(self.retry_after_min, retry_after, jittered))
