"""What the sender is fed, and what it must deliver: profiles, expected events, its files.

Profiles come from the project's Hypothesis strategies (``connector.strategies.profiles`` with
``adversarial=False``: every one should be sent), driven with the run's seed, so the same seed
feeds the same profiles. Their attribute values are those an AEP export carries (``live_values``),
and the first profiles carry every attribute's showcase values (2^53 + 1, ``1.0E10``, edge
whitespace...), so that even a short feed holds what breaks a sender that parses numbers into
doubles or trims strings. The user's own profiles (``--profiles-file``) come first. Each kept profile renders, through the harness's own renderer, to one
expected event; no two share an identity value, so every payload that arrives can be matched to
exactly one event by its identities and audience changes, whatever its key order or spacing.
"""

from __future__ import annotations

import copy
import json
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from ... import exactjson
from ...activation import Activation
from ...errors import UsageError
from ...live_values import showcase
from ...model import SDK_ATTRIBUTES, sdk_attribute
from ...paths import set_path, split_path
from ...render import Payload, Renderer
from ...strategies import profiles as profile_strategy
from ...validate import validator_for

__all__ = [
    "Expected",
    "Feed",
    "handles",
    "identities_of",
    "make_feed",
    "read_own_profiles",
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


class _Showcase:
    """Puts each attribute's showcase values (``live_values.showcase``) into the first profiles:
    profile ``n`` carries value ``n + j`` of attribute ``j``'s list, so a feed of as many profiles
    as the longest list holds every edge value of every attribute, whatever Hypothesis draws."""

    def __init__(self, activation: Activation, strict_numbers: bool) -> None:
        self.slots = [
            (split_path(a.source), showcase(a.type, strict_numbers=strict_numbers))
            for a in activation.attributes
        ]

    def __call__(self, profile: dict[str, Any], slot: int) -> dict[str, Any] | None:
        """``profile`` with slot ``slot``'s values, or ``None`` when every list is used up."""
        chosen = [
            (keys, values[slot + index])
            for index, (keys, values) in enumerate(self.slots)
            if slot + index < len(values)
        ]
        if not chosen:
            return None
        changed = copy.deepcopy(profile)
        for keys, value in chosen:
            if sdk_attribute(keys):
                changed.setdefault(SDK_ATTRIBUTES, {})
                set_path(changed, keys, {"value": value})
            else:
                set_path(changed, keys, value)
        return changed


def make_feed(
    activation: Activation,
    count: int,
    seed: int,
    *,
    strict_numbers: bool = False,
    own: Sequence[dict[str, Any]] = (),
) -> Feed:
    """``own`` profiles (the user's), then ``count`` generated sendable profiles with distinct
    identities, and the events they must become (a profile ``own`` holds that renders to no
    payload is fed all the same: nothing may arrive for it)."""
    renderer = Renderer(activation)
    kept: list[dict[str, Any]] = []
    expected: list[Expected] = []
    seen: set[str] = set()
    cover = _Showcase(activation, strict_numbers)

    def add(profile: dict[str, Any], result: Payload) -> None:
        kept.append(profile)
        seen.update(h for h in handles(result.document) if h.startswith("ns:"))
        expected.append(Expected(len(kept), profile, result))

    for profile in own:
        result = renderer.render(profile)
        if isinstance(result, Payload):
            add(profile, result)
        else:
            kept.append(profile)
    wanted = len(kept) + count
    if count == 0:
        return Feed(kept, expected)

    def keep(drawn: dict[str, Any]) -> None:
        covered = cover(drawn, len(kept) - len(own))
        for profile in (covered, drawn) if covered is not None else (drawn,):
            result = renderer.render(profile)
            if not isinstance(result, Payload):
                continue  # a showcase value that cannot fit: the plain draw instead
            ids = {h for h in handles(result.document) if h.startswith("ns:")}
            if ids & seen:
                return
            add(profile, result)
            break
        if len(kept) >= wanted:
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
    strategy = profile_strategy(activation, adversarial=False, strict_numbers=strict_numbers)
    test = given(strategy)(keep)
    try:
        hypothesis_seed(seed)(config(test))()
    except Exception:
        # _Enough, or Hypothesis' report of it (it replays the last example, which is kept).
        if len(kept) < wanted:
            raise
    return Feed(kept[:wanted], [e for e in expected if e.number <= wanted])


def write_profiles(feed: Feed, path: Path) -> None:
    """The profiles as JSON Lines (AEP export format), one per line, every number as its text
    (``1.0E10`` stays ``1.0E10``: the sender meets what a Java writer wrote)."""
    path.write_bytes(b"".join(exactjson.dumps(p) + b"\n" for p in feed.profiles))


def read_own_profiles(path: Path) -> list[dict[str, Any]]:
    """``--profiles-file``: the user's AEP profiles (JSON Lines), each checked against the
    ``aep-profile`` contract; a line that is not one is a usage error naming it."""
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise UsageError(
            f"--profiles-file {str(path)!r}: cannot read it: {exc.strerror or exc}"
        ) from None
    contract = validator_for("aep-profile")
    found: list[dict[str, Any]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        where = f"--profiles-file {str(path)!r}: line {number}"
        try:
            profile = exactjson.loads(raw)
        except ValueError as exc:
            raise UsageError(f"{where}: {exc}") from None
        if not isinstance(profile, dict):
            raise UsageError(f"{where}: expected a JSON object (an AEP profile)")
        errors = contract.errors(profile)
        if errors:
            raise UsageError(f"{where}: breaks the aep-profile contract at {errors[0]}")
        found.append(profile)
    if not found:
        raise UsageError(f"--profiles-file {str(path)!r}: holds no profile")
    return found


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
