"""Delivery set-up: a quick ``deliver`` (millisecond backoffs, no rate limit), the outbox it
leaves, and the report's documented keys."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from connector.activation import Activation
from connector.delivery import (
    Backoff,
    DeliveryOptions,
    DeliveryReport,
    Outbox,
    deliver,
    destination_key,
)

from .destination import TOKEN

__all__ = ["REPORT_KEYS", "deliver_fast", "fast_backoff", "outbox_of"]

#: ``send --report-json``'s keys, in their order (the report is a documented interface).
REPORT_KEYS = [
    "profiles_received",
    "identities_activated",
    "excluded",
    "failed",
    "duplicates_skipped",
    "retries",
    "latency_ms",
    "activation_rate",
    "alerts",
    "unknown_outcome_resends",
    "dropped",
    # input errors apart from exclusions, each line's fate, the outbox after the run, and why
    "input_errors",
    "lines",
    "outbox",
    "last_error",
]


def fast_backoff() -> Backoff:
    """Milliseconds instead of seconds, Retry-After clamped to at most 20 ms, so no test sleeps."""
    return Backoff(
        base=0.001, cap=0.004, retry_after_min=0.0, retry_after_max=0.02, rng=random.Random(1)
    )


def deliver_fast(
    activation: Activation, state_dir: Path, items: list[Any], **options: Any
) -> DeliveryReport:
    """``deliver`` with ``TOKEN``, ``fast_backoff()`` and no rate limit unless ``options`` say."""
    token = options.pop("token", TOKEN)
    options.setdefault("backoff", fast_backoff())
    options.setdefault("rate_limit", None)
    return deliver(
        activation, items, token=token, state_dir=state_dir, options=DeliveryOptions(**options)
    )


def outbox_of(activation: Activation, state_dir: Path) -> Outbox:
    """The outbox ``send`` keeps in ``state_dir`` for ``activation``'s destination (unopened:
    use it as a context manager)."""
    key = destination_key(activation.destination.url, activation.destination.username)
    return Outbox(state_dir, key)
