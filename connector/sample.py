"""Sample AEP profiles for an activation, like Adobe's sample-profile generation API.

Each profile carries every mapped identity namespace, a value at every mapped attribute's source
path, an allowed consent value, and a membership in one of the activated audiences, so that it
renders to a payload. Values are plausible rather than adversarial: the adversarial ones come from
``connector.strategies`` during certification.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from .activation import Activation
from .paths import set_path, split_path

__all__ = ["MAX_SAMPLES", "sample_profiles"]

#: Adobe's sample-profile API hands out 1..1000 profiles per call.
MAX_SAMPLES: Final = 1000

_FIRST_NAMES = (
    "Dave",
    "Ana",
    "Jürgen",
    "Mei",
    "Olusegun",
    "Zoë",
    "Priya",
    "Mateo",
    "Aiko",
    "Fatima",
)
_LAST_NAMES = ("Smith", "García", "Nguyen", "Kowalski", "Okafor", "Müller", "Tanaka", "Haddad")
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def sample_profiles(activation: Activation, count: int, *, seed: int) -> list[dict[str, Any]]:
    """``count`` profiles (1..1000) that exercise ``activation``; the same seed gives the same list."""
    if not 1 <= count <= MAX_SAMPLES:
        raise ValueError(f"count must be between 1 and {MAX_SAMPLES}, got {count}")
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets  # nosec B311
    return [_profile(activation, rng, index) for index in range(count)]


def _profile(activation: Activation, rng: random.Random, index: int) -> dict[str, Any]:
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    email = f"{_ascii(first)}.{_ascii(last)}.{index}@example.com".lower()
    profile: dict[str, Any] = {"identityMap": {}}
    for mapping in activation.identities:
        value = email if mapping.target == "email" else _identity_value(mapping.source, rng)
        profile["identityMap"][mapping.source] = [
            {"id": value, "authenticatedState": "ambiguous", "primary": mapping.target == "email"}
        ]
    for attribute in activation.attributes:
        keys = attribute.source_keys
        value = _attribute_value(keys[-1], first, last, email, rng)
        if attribute.sdk_name:
            set_path(profile, keys, {"value": value})
        else:
            set_path(profile, keys, value)
    if activation.consent is not None:
        set_path(profile, split_path(activation.consent.path), activation.consent.allow[0])
    qualified = _EPOCH + timedelta(
        seconds=rng.randrange(300 * 86_400), microseconds=rng.randrange(10**6)
    )
    audience = rng.choice(activation.audiences)
    profile["segmentMembership"] = {
        "ups": {
            audience.id: {
                "lastQualificationTime": qualified.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "status": "realized",
            }
        }
    }
    return profile


def _ascii(name: str) -> str:
    return name.encode("ascii", "ignore").decode() or "user"


def _identity_value(namespace: str, rng: random.Random) -> str:
    if namespace.upper() == "ECID":
        return "".join(rng.choice("0123456789") for _ in range(38))
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _attribute_value(name: str, first: str, last: str, email: str, rng: random.Random) -> Any:
    lowered = name.lower()
    if "first" in lowered:
        return first
    if "last" in lowered or "surname" in lowered:
        return last
    if "email" in lowered or "address" in lowered:
        return email
    if any(word in lowered for word in ("phone", "mobile", "number")):
        return "0" + "".join(rng.choice("0123456789") for _ in range(9))
    return f"{name}-{rng.randrange(10_000)}"
