"""Sample AEP profiles for an activation, like Adobe's sample-profile generation API.

Each profile carries every mapped identity namespace, a value at every mapped attribute's source
path, an allowed consent value, and a membership in one of the activated audiences, so that it
renders to a payload. Attribute values follow the mapping's XDM ``type``: every other value is
one an AEP export carries and some code mishandles (2^53 + 1, ``1.0E10``, edge whitespace: see
``live_values``), the rest plausible (a first name for ``firstName``); an attribute without a
type gets every JSON type in turn. Numbers are kept as written (``exactjson``).
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from . import exactjson
from .activation import Activation
from .live_values import java_double, showcase
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
    for position, attribute in enumerate(activation.attributes):
        keys = attribute.source_keys
        value = _typed_value(attribute.type, keys[-1], index + position, (first, last, email), rng)
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


def _typed_value(
    xdm_type: str | None, name: str, turn: int, person: tuple[str, str, str], rng: random.Random
) -> Any:
    """A value of ``xdm_type`` for attribute ``name``: every other turn one of the type's
    showcase values (in turn, so that a few samples meet them all), else a plausible one. An
    attribute without a type may hold any JSON type, so it gets the showcase of them all."""
    edges = showcase(xdm_type)
    if xdm_type is None or turn % 2:
        return edges[turn // 2 % len(edges)] if xdm_type is not None else edges[turn % len(edges)]
    if xdm_type == "string":
        return _plausible_string(name, *person, rng)
    if xdm_type == "integer":
        return rng.randrange(-(2**63), 2**63)
    if xdm_type == "number":
        return exactjson.loads(java_double(round(rng.uniform(-1e6, 1e6), rng.randrange(6))))
    if xdm_type == "boolean":
        return rng.random() < 0.5
    moment = _EPOCH + timedelta(seconds=rng.randrange(300 * 86_400))
    if xdm_type == "date":
        return moment.date().isoformat()
    if xdm_type == "date-time":
        return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return edges[rng.randrange(len(edges))]  # object, array


def _words(name: str) -> list[str]:
    """``lastOrderTotal`` -> ``["last", "order", "total"]``: heuristics read whole words."""
    return [w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)]


def _plausible_string(name: str, first: str, last: str, email: str, rng: random.Random) -> str:
    words = _words(name)
    if words[:1] == ["first"] or words == ["given", "name"]:
        return first
    if words[:2] == ["last", "name"] or "surname" in words or words == ["family", "name"]:
        return last
    if "email" in words:
        return email
    if any(word in words for word in ("phone", "mobile", "number")):
        return "0" + "".join(rng.choice("0123456789") for _ in range(9))
    return f"{name}-{rng.randrange(10_000)}"
