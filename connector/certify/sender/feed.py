"""What the sender is fed, and what it must deliver: profiles, expected events, its files.

Profiles come from the project's Hypothesis strategies (``connector.strategies.profiles`` with
``adversarial=False``: every one should be sent), driven with the run's seed, so the same seed
feeds the same profiles. Each kept profile renders, through the harness's own renderer, to one
expected event; no two share an identity value, so every payload that arrives can be matched to
exactly one event by its identities and audience changes, whatever its key order or spacing.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from ...activation import Activation
from ...render import Payload, Renderer
from ...strategies import profiles as profile_strategy

__all__ = [
    "Expected",
    "Feed",
    "handles",
    "identities_of",
    "make_feed",
    "write_activation_copy",
    "write_profiles",
]

#: Hypothesis examples tried per profile wanted before giving up on distinct identities.
_TRIES_PER_PROFILE: Final = 40


@dataclass(frozen=True, slots=True)
class Expected:
    """One event the sender must deliver: the profile it comes from and the harness's payload."""

    number: int  # 1-based line of the profiles file
    profile: dict[str, Any]
    payload: Payload

    @property
    def document(self) -> dict[str, Any]:
        return self.payload.document

    def label(self) -> str:
        """``dave@example.com / audience 046456e3…``: how evidence names the event."""
        identity = self.payload.identity.split(":", 1)[1]
        audiences = ", ".join(f"{aid[:8]}…" for aid in self.document["segmentMembership"]["ups"])
        return f"{identity} / audience {audiences}"


@dataclass(frozen=True, slots=True)
class Feed:
    """The profiles (as written to the file) and the events they must become."""

    profiles: list[dict[str, Any]]
    expected: list[Expected]


def handles(document: Any) -> set[str]:
    """What identifies an event in a payload: each identity and each audience change.

    ``ns:Email=dave@example.com``, ``ups:<audience>|realized|<time>``: independent of key order
    and whitespace, and still matching when one of them was changed on the way.
    """
    found: set[str] = set()
    if not isinstance(document, dict):
        return found
    identity_map = document.get("identityMap")
    if isinstance(identity_map, dict):
        for namespace, entries in identity_map.items():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    found.add(f"ns:{namespace}={entry['id']}")
    membership = document.get("segmentMembership")
    ups = membership.get("ups") if isinstance(membership, dict) else None
    if isinstance(ups, dict):
        for audience, change in ups.items():
            if isinstance(change, dict):
                found.add(
                    f"ups:{audience}|{change.get('status')}|{change.get('lastQualificationTime')}"
                )
    return found


class _Enough(Exception):
    """Raised inside the Hypothesis test once enough profiles are kept."""


def make_feed(activation: Activation, count: int, seed: int) -> Feed:
    """``count`` sendable profiles with distinct identities, and their expected events."""
    renderer = Renderer(activation)
    kept: list[dict[str, Any]] = []
    expected: list[Expected] = []
    seen: set[str] = set()

    def keep(profile: dict[str, Any]) -> None:
        result = renderer.render(profile)
        if not isinstance(result, Payload):
            return
        ids = {h for h in handles(result.document) if h.startswith("ns:")}
        if ids & seen:
            return
        seen.update(ids)
        kept.append(profile)
        expected.append(Expected(len(kept), profile, result))
        if len(kept) >= count:
            raise _Enough

    config = settings(
        max_examples=count * _TRIES_PER_PROFILE,
        database=None,
        deadline=None,
        derandomize=False,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    test = given(profile_strategy(activation, adversarial=False))(keep)
    try:
        hypothesis_seed(seed)(config(test))()
    except Exception:
        # _Enough, or Hypothesis' report of it (it replays the last example, which is kept).
        if len(kept) < count:
            raise
    return Feed(kept[:count], expected[:count])


def write_profiles(feed: Feed, path: Path) -> None:
    """The profiles as JSON Lines (AEP export format), one per line."""
    path.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in feed.profiles))


def _raw_activation(activation: Activation, raw: bytes) -> dict[str, Any]:
    text = raw.decode("utf-8").removeprefix("\ufeff")
    if activation.source.lower().endswith(".json") or text.lstrip().startswith("{"):
        document: dict[str, Any] = json.loads(text)
    else:
        document = tomllib.loads(text)
    return document


def write_activation_copy(
    activation: Activation, raw: bytes, path: Path, *, url: str, username: str, token_env: str
) -> None:
    """A copy of the activation (as JSON) whose destination is the mock's workflow.

    ``destination.url``, ``username`` and ``api_token_env`` point at the mock and at the
    variable holding its token, so ``qharness send "$QHARNESS_ACTIVATION" ...`` works as it is.
    """
    document = _raw_activation(activation, raw)
    destination = dict(document.get("destination", {}))
    destination.update(url=url, username=username, api_token_env=token_env)
    document["destination"] = destination
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def identities_of(expected: Iterable[Expected]) -> dict[str, Expected]:
    """handle -> event, for every identity handle of every expected event."""
    return {h: event for event in expected for h in handles(event.document) if h.startswith("ns:")}
