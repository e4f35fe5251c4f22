"""Rendering: one AEP profile update in, one Qualtrics JSON Event payload (or a reason) out.

This is the payload contract in code (README, "Rendering"). ``Renderer.build`` decides
what a profile becomes without judging the result; ``Renderer.render`` also checks the payload
against the ``qualtrics-event`` contract and refuses to hand over anything that breaks it. The two
are kept apart so that certification can observe a broken renderer instead of trusting it.

The per-activation work (path splitting, audience sets, the email rule) is done once in
``__init__``; ``build`` is on the hot path of every send.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Final

from . import exactjson
from .activation import Activation
from .errors import ContractViolation
from .live_values import conforms, json_type
from .model import SDK_ATTRIBUTES
from .paths import MISSING, get_path, json_path, set_path, split_path
from .validate import MAX_PAYLOAD_BYTES, payload_violations, validator_for

__all__ = [
    "EXCLUSION_REASONS",
    "SENDABLE_STATUSES",
    "Exclusion",
    "Payload",
    "Renderer",
    "dumps",
    "is_hashed_email",
    "is_plain_email",
]

#: Why a profile is not sent; each is counted in reports (AEP's "identities excluded").
EXCLUSION_REASONS: Final = (
    "missing-identity",
    "hashed-email",
    "invalid-email",
    "consent",
    "payload-too-large",
    "invalid-profile",
)
#: A membership in one of these states is a change worth a survey; ``existing`` is not.
SENDABLE_STATUSES: Final = frozenset({"realized", "exited"})

_HASHED_EMAIL = re.compile(r"^[0-9a-fA-F]{64}$")
_PLAIN_EMAIL = re.compile(
    validator_for("qualtrics-event").schema["definitions"]["email"]["pattern"]
)


def is_plain_email(value: str) -> bool:
    """``local@domain.tld`` without whitespace: the contract's own pattern, so both agree."""
    return _PLAIN_EMAIL.fullmatch(value) is not None  # fullmatch: `$` would accept a trailing "\n"


def is_hashed_email(value: str) -> bool:
    """64 hex characters: a SHA-256 digest, which Qualtrics cannot email."""
    return _HASHED_EMAIL.match(value) is not None


def dumps(document: Any) -> bytes:
    """The body as sent: compact UTF-8 JSON, every number exactly as it arrived (``exactjson``)."""
    return exactjson.dumps(document)


@dataclass(slots=True)  # not frozen: a frozen __init__ costs 3x, on the path of every profile
class Payload:
    """A payload ready to send: the document, its exact bytes, and what makes it unique.

    Treat it as immutable: ``body`` is what is sent, and must stay the serialization of
    ``document``.

    ``dedup_keys`` holds one key per (identity, audience, status, lastQualificationTime) that
    this payload announces; ``event_id`` derives from them, so it is stable across retries,
    restarts and re-runs of the same input, and serves as the ``Idempotency-Key``.
    """

    document: dict[str, Any]
    body: bytes
    identity: str
    dedup_keys: tuple[str, ...]

    @property
    def event_id(self) -> str:
        return hashlib.sha256("\n".join(self.dedup_keys).encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A profile that is not sent, with its documented reason and a human detail."""

    reason: str
    detail: str

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


class Renderer:
    """Renders profiles for one activation."""

    def __init__(self, activation: Activation) -> None:
        self.activation = activation
        self._audiences = activation.audience_ids
        self._identities = tuple(
            (mapping.source, mapping.target == "email") for mapping in activation.identities
        )
        # (source keys, Destination SDK attribute name or "", target keys, XDM type), split once.
        self._attributes = tuple(
            (mapping.source_keys, mapping.sdk_name, mapping.target_keys, mapping.type)
            for mapping in activation.attributes
        )
        consent = activation.consent
        self._consent = (
            (split_path(consent.path), frozenset(consent.allow), consent.path) if consent else None
        )
        self._profile_contract = validator_for("aep-profile")
        self._event_contract = validator_for("qualtrics-event")

    def __repr__(self) -> str:
        return f"Renderer({self.activation.source!r})"

    def build(self, profile: Any) -> Payload | Exclusion | None:
        """What ``profile`` becomes: a payload, an exclusion, or ``None`` (no change to announce)."""
        if not isinstance(profile, dict):
            kind = "null" if profile is None else type(profile).__name__
            return Exclusion("invalid-profile", f"$: expected a JSON object, got {kind}")
        if not self._profile_contract.is_valid(profile):
            first = self._profile_contract.errors(profile)[0]
            return Exclusion("invalid-profile", str(first))

        ups = profile.get("segmentMembership", {}).get("ups", {})
        memberships = {aid: ups[aid] for aid in self._audiences if aid in ups}
        changes = [(aid, m) for aid, m in memberships.items() if m["status"] in SENDABLE_STATUSES]
        if not changes:
            return None

        identity_map = profile.get("identityMap", {})
        identities: dict[str, list[dict[str, str]]] = {}
        for namespace, is_email in self._identities:
            entries = identity_map.get(namespace)
            if not entries:
                continue
            if is_email:
                for index, entry in enumerate(entries):
                    value = entry["id"]
                    if not is_plain_email(value):
                        reason = "hashed-email" if is_hashed_email(value) else "invalid-email"
                        where = json_path(["identityMap", namespace, index, "id"])
                        return Exclusion(
                            reason, f"{where}: {value[:80]!r} is not a plain-text email"
                        )
            identities[namespace] = [{"id": entry["id"]} for entry in entries]
        if not identities:
            wanted = ", ".join(ns for ns, _ in self._identities)
            return Exclusion(
                "missing-identity", f"$.identityMap: none of the mapped namespaces ({wanted})"
            )

        if self._consent is not None:
            keys, allowed, dotted = self._consent
            value = get_path(profile, keys)
            if value is MISSING or not isinstance(value, str) or value not in allowed:
                shown = "absent" if value is MISSING else repr(value)
                return Exclusion(
                    "consent",
                    f"{dotted} is {shown}; allowed: {', '.join(map(repr, sorted(allowed)))}",
                )

        document: dict[str, Any] = {}
        for source, sdk_name, target, xdm_type in self._attributes:
            value = _read_sdk(profile, sdk_name) if sdk_name else get_path(profile, source)
            if value is not MISSING and value is not None:
                if xdm_type is not None and not conforms(value, xdm_type):
                    return Exclusion(
                        "invalid-profile", _mistyped(source, sdk_name, value, xdm_type)
                    )
                set_path(document, target, value)
        document["identityMap"] = identities
        document["segmentMembership"] = {
            "ups": {
                aid: {"status": m["status"], "lastQualificationTime": m["lastQualificationTime"]}
                for aid, m in memberships.items()
            }
        }
        try:
            body = dumps(document)
        except UnicodeEncodeError:  # a lone surrogate from a Python caller: not UTF-8, not JSON
            return Exclusion("invalid-profile", "$: a string holds a lone UTF-16 surrogate")
        if len(body) > MAX_PAYLOAD_BYTES:
            return Exclusion(
                "payload-too-large",
                f"$: body is {len(body):,} bytes; Qualtrics accepts at most {MAX_PAYLOAD_BYTES:,}",
            )
        namespace = next(iter(identities))
        identity = f"{namespace}:{identities[namespace][0]['id']}"
        keys = tuple(
            f"{identity}|{aid}|{m['status']}|{m['lastQualificationTime']}" for aid, m in changes
        )
        return Payload(document, body, identity, keys)

    def render(self, profile: Any, *, source: str = "") -> Payload | Exclusion | None:
        """``build``, then refuse a payload that breaks the event contract."""
        result = self.build(profile)
        if isinstance(result, Payload) and not (
            len(result.body) <= MAX_PAYLOAD_BYTES and self._event_contract.is_valid(result.document)
        ):
            raise ContractViolation(
                "qualtrics-event",
                payload_violations(result.document, len(result.body)),
                source=source,
            )
        return result


def _mistyped(source: tuple[str, ...], sdk_name: str, value: Any, xdm_type: str) -> str:
    """``$.loyalty.points: string '12' where XDM type integer is declared ...``: AEP validates a
    record against its schema at ingestion, so a value of another type is never exported."""
    where = json_path([SDK_ATTRIBUTES, sdk_name, "value"] if sdk_name else list(source))
    shown = exactjson.number_text(value) or repr(value)
    shown = shown if len(shown) <= 60 else f"{shown[:40]}... ({len(shown):,} characters)"
    return (
        f"{where}: {json_type(value)} {shown} where the mapping declares XDM type {xdm_type} "
        "(AEP refuses such a record at ingestion)"
    )


def _read_sdk(profile: dict[str, Any], name: str) -> Any:
    """Attribute ``name`` in the Destination SDK form ``{"attributes": {name: {"value": ...}}}``.

    ``{}`` means absent. Only a profile that passed the profile contract gets here, and the
    contract admits nothing but objects under ``attributes``: no other shape needs reading.
    """
    slot: dict[str, Any] = profile.get(SDK_ATTRIBUTES, {}).get(name, {})
    return slot.get("value", MISSING)
