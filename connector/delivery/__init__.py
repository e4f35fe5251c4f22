"""Streaming delivery to a Qualtrics JSON Event trigger: ``deliver()`` renders profiles, writes
each event to a durable SQLite outbox before sending it, posts it with Basic auth and an
``Idempotency-Key`` through a token-bucket rate limit, retries transient failures with
full-jitter backoff honouring ``Retry-After``, dead-letters permanent ones, stops on 401/403
keeping every event, and returns an AEP-style ``DeliveryReport``. Delivery is at-least-once: an
event whose answer never came back is resent and counted (``unknown_outcome_resends``).
``DeliveryOptions`` holds every knob; ``retry_policy="aep"`` applies Adobe's own best effort. Only URLs that pass the URL
guard (a Qualtrics data-center host over https, or loopback with an explicit flag) are used.
"""

from __future__ import annotations

from .auth import QualtricsBasicAuth
from .client import Attempt, make_client, post_event
from .monitor import Alert, DeliveryReport
from .options import RETRY_POLICIES, DeliveryOptions
from .outbox import DeadLetter, Outbox, destination_key
from .policy import Backoff, Verdict, classify, parse_retry_after
from .ratelimit import TokenBucket
from .schedule import Schedule
from .sender import Sender, deliver
from .urlguard import check_url

__all__ = [
    "RETRY_POLICIES",
    "Alert",
    "Attempt",
    "Backoff",
    "DeadLetter",
    "DeliveryOptions",
    "DeliveryReport",
    "Outbox",
    "QualtricsBasicAuth",
    "Schedule",
    "Sender",
    "TokenBucket",
    "Verdict",
    "check_url",
    "classify",
    "deliver",
    "destination_key",
    "make_client",
    "parse_retry_after",
    "post_event",
]
