"""Delivery set-up: backoffs shrunk to milliseconds, so no test sleeps for real."""

from __future__ import annotations

import random

from connector.delivery import Backoff

__all__ = ["fast_backoff"]


def fast_backoff() -> Backoff:
    """Milliseconds instead of seconds, Retry-After clamped to at most 20 ms."""
    return Backoff(
        base=0.001, cap=0.004, retry_after_min=0.0, retry_after_max=0.02, rng=random.Random(1)
    )
