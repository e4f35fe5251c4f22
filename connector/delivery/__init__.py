"""Streaming delivery to a Qualtrics JSON Event trigger: ``deliver()`` renders profiles, writes
each event to a durable SQLite outbox before sending it, posts it with Basic auth and an
``Idempotency-Key`` through a token-bucket rate limit, retries transient failures with
full-jitter backoff honouring ``Retry-After``, dead-letters permanent ones, stops on 401/403
keeping every event, and returns an AEP-style ``DeliveryReport``. Only URLs that pass the URL
guard (a Qualtrics data-center host over https, or loopback with an explicit flag) are used.
"""

from __future__ import annotations

from .auth import QualtricsBasicAuth
from .client import Attempt, make_client, post_event
from .monitor import Alert, DeliveryReport
from .outbox import DeadLetter, Outbox, destination_key
from .policy import Backoff, Verdict, classify, parse_retry_after
from .ratelimit import TokenBucket
from .sender import Sender, deliver
from .urlguard import check_url

__all__ = [
    "Alert",
    "Attempt",
    "Backoff",
    "DeadLetter",
    "DeliveryReport",
    "Outbox",
    "QualtricsBasicAuth",
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
