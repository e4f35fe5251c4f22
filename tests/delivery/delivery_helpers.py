"""Shared helpers for the delivery tests: the example activation, profile builders, fast backoff.

Every HTTP edge runs against respx (no socket at all); end-to-end tests use the ``mock_qualtrics``
fixture on 127.0.0.1. Backoffs are shrunk to milliseconds so no test sleeps for real.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

from connector.activation import Activation, load_activation
from connector.delivery import Backoff

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
EXAMPLE = REPO / "examples" / "activation.toml"
#: The example's urlTokenId and a token: neither may appear in any output.
URL_TOKEN_ID = "5f1c3a52-7d0e-4c1b-9a43-2b8e6f0d9c71"
TOKEN = "tok-SECRET-9c2f4e7d1b"
AUDIENCE = "046456e3-18e1-48a6-9bda-d68547861283"
TRIGGER = "https://iad1.qualtrics.com/inbound-event/v1/events/json/triggers"
#: Runs the CLI with ``send`` and ``test-destination`` registered (as ``qharness`` does).
CLI = [sys.executable, str(HERE / "delivery_cli.py")]


def profile(
    email: str,
    *,
    at: str = "2024-05-01T10:00:00Z",
    status: str = "realized",
    first_name: str = "Ana",
    audience: str = AUDIENCE,
) -> dict[str, Any]:
    """An AEP profile update for the example activation (one membership change)."""
    return {
        "identityMap": {"Email": [{"id": email}], "ECID": [{"id": f"ecid-{email}"}]},
        "person": {"name": {"firstName": first_name}},
        "mobilePhone": {"number": "0123456789"},
        "segmentMembership": {"ups": {audience: {"status": status, "lastQualificationTime": at}}},
    }


def profiles(count: int, *, seed: int = 0) -> list[dict[str, Any]]:
    """``count`` profiles of distinct identities."""
    rng = random.Random(seed)
    return [profile(f"user{index}.{rng.randrange(10**6)}@example.com") for index in range(count)]


def fast_backoff() -> Backoff:
    """Milliseconds instead of seconds, Retry-After clamped to at most 20 ms."""
    return Backoff(
        base=0.001, cap=0.004, retry_after_min=0.0, retry_after_max=0.02, rng=random.Random(1)
    )


def example_activation() -> Activation:
    return load_activation(EXAMPLE)
