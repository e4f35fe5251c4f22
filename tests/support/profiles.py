"""AEP profile updates for the example activations, and JSON Lines files of them."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson

__all__ = ["AUDIENCE", "jsonl", "profile", "profiles"]

#: The audience every example activation maps.
AUDIENCE = "046456e3-18e1-48a6-9bda-d68547861283"


def profile(
    email: str,
    *,
    at: str = "2024-05-01T10:00:00Z",
    status: str = "realized",
    first_name: str = "Ana",
    audience: str = AUDIENCE,
) -> dict[str, Any]:
    """An AEP profile update for the example activations (one membership change)."""
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


def jsonl(path: Path, lines: list[Any]) -> Path:
    """Writes ``lines`` to ``path`` as JSON Lines (a ``bytes`` item is written as it is)."""
    path.write_bytes(
        b"".join(line if isinstance(line, bytes) else orjson.dumps(line) + b"\n" for line in lines)
    )
    return path
