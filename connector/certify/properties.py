"""The property checks: what a renderer's answer for one profile must satisfy.

The judge is independent of ``connector.render``: :func:`expect` re-derives, from the activation
and the README's rendering rules alone, whether a profile must be sent (and as exactly which
payload), excluded (and for which documented reasons) or passed over. :func:`judge` then compares a
renderer's answer with that expectation and names the check each discrepancy breaks. Certification
can therefore catch a renderer that drops, changes or leaks a value, instead of trusting it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from .. import exactjson
from ..activation import Activation
from ..live_values import conforms
from ..model import SDK_ATTRIBUTES, sdk_attribute
from ..paths import MISSING, get_path, json_path, set_path, split_path
from ..render import (
    EXCLUSION_REASONS,
    SENDABLE_STATUSES,
    Exclusion,
    Payload,
    dumps,
    is_hashed_email,
    is_plain_email,
)
from ..validate import MAX_PAYLOAD_BYTES, validator_for

__all__ = ["Expected", "RendererLike", "Verdicts", "expect", "judge"]


class RendererLike(Protocol):
    """What certification needs of a renderer: ``connector.render.Renderer``, or a stand-in."""

    def build(self, profile: Any) -> Payload | Exclusion | None: ...


@dataclass(frozen=True, slots=True)
class Expected:
    """What the rules say about one profile.

    ``kind`` is ``send``, ``exclude`` or ``none`` (no activated audience changed). ``reasons`` are
    every documented exclusion reason that applies (any one of them is an acceptable answer);
    ``document`` the exact payload when ``kind`` is ``send``.
    """

    kind: str
    reasons: frozenset[str] = frozenset()
    document: dict[str, Any] | None = None


def _read(profile: dict[str, Any], keys: tuple[str, ...]) -> Any:
    """A mapping source's value: Destination SDK form for ``attributes.X``, else XDM."""
    if name := sdk_attribute(keys):
        attributes = profile.get(SDK_ATTRIBUTES)
        if not isinstance(attributes, dict) or name not in attributes:
            return MISSING
        slot = attributes[name]
        return slot.get("value", MISSING) if isinstance(slot, dict) else slot
    return get_path(profile, keys)


def expect(activation: Activation, profile: Any) -> Expected:
    """Derive the rendering rules' answer for ``profile`` (see the module doc)."""
    if not isinstance(profile, dict) or not validator_for("aep-profile").is_valid(profile):
        return Expected("exclude", frozenset({"invalid-profile"}))
    ups = profile.get("segmentMembership", {}).get("ups", {})
    memberships = {a.id: ups[a.id] for a in activation.audiences if a.id in ups}
    if not any(m["status"] in SENDABLE_STATUSES for m in memberships.values()):
        return Expected("none")

    reasons: set[str] = set()
    identities: dict[str, list[dict[str, Any]]] = {}
    identity_map = profile.get("identityMap", {})
    for mapping in activation.identities:
        entries = identity_map.get(mapping.source) or []
        if not entries:
            continue
        if mapping.target == "email":
            for entry in entries:
                if not is_plain_email(entry["id"]):
                    reasons.add("hashed-email" if is_hashed_email(entry["id"]) else "invalid-email")
        identities[mapping.source] = [{"id": entry["id"]} for entry in entries]
    if not identities:
        reasons.add("missing-identity")
    if activation.consent is not None:
        value = get_path(profile, split_path(activation.consent.path))
        allowed = isinstance(value, str) and value in activation.consent.allow
        if not allowed:
            reasons.add("consent")
    for attribute in activation.attributes:  # AEP never exports a value of another XDM type
        value = _read(profile, attribute.source_keys)
        typed = attribute.type is not None and value is not MISSING and value is not None
        if typed and not conforms(value, str(attribute.type)):
            reasons.add("invalid-profile")
    if reasons:
        return Expected("exclude", frozenset(reasons))

    document: dict[str, Any] = {}
    for attribute in activation.attributes:
        value = _read(profile, attribute.source_keys)
        if value is not MISSING and value is not None:
            set_path(document, attribute.target_keys, value)
    document["identityMap"] = identities
    document["segmentMembership"] = {
        "ups": {
            aid: {"status": m["status"], "lastQualificationTime": m["lastQualificationTime"]}
            for aid, m in memberships.items()
        }
    }
    if len(dumps(document)) > MAX_PAYLOAD_BYTES:
        return Expected("exclude", frozenset({"payload-too-large"}))
    return Expected("send", document=document)


@dataclass(slots=True)
class Verdicts:
    """The checks one profile breaks, each with a one-paragraph explanation, in check order."""

    failures: dict[str, str] = field(default_factory=dict)

    def fail(self, check: str, message: str) -> None:
        self.failures.setdefault(check, message)


def judge(activation: Activation, profile: Any, result: Any, expected: Expected) -> Verdicts:
    """Which property checks ``result`` (a renderer's answer for ``profile``) breaks."""
    verdicts = Verdicts()
    if result is None:
        if expected.kind != "none":
            verdicts.fail(
                "property.exclusion-reasons",
                f"the profile was passed over silently (no payload, no reason); expected "
                f"{_describe(expected)}",
            )
        return verdicts
    if isinstance(result, Exclusion):
        if result.reason not in EXCLUSION_REASONS:
            verdicts.fail(
                "property.exclusion-reasons",
                f"exclusion reason {result.reason!r} is not documented "
                f"(documented: {', '.join(EXCLUSION_REASONS)})",
            )
        elif expected.kind == "send":
            verdicts.fail(
                "property.exclusion-reasons",
                f"excluded as {result.reason!r} ({result.detail}), but the profile should be sent",
            )
        elif expected.kind == "exclude" and result.reason not in expected.reasons:
            verdicts.fail(
                "property.exclusion-reasons",
                f"excluded as {result.reason!r}, but the reason that applies is "
                f"{' or '.join(sorted(expected.reasons))}",
            )
        return verdicts
    if not isinstance(result, Payload):
        verdicts.fail(
            "property.no-crash",
            f"the renderer returned {type(result).__name__}, not a payload, an exclusion or None",
        )
        return verdicts
    _judge_payload(result, expected, verdicts)
    return verdicts


def _judge_payload(result: Payload, expected: Expected, verdicts: Verdicts) -> None:
    size = len(result.body)
    if size > MAX_PAYLOAD_BYTES:
        verdicts.fail(
            "property.size-limit",
            f"a payload of {size:,} bytes would be sent; "
            f"Qualtrics accepts at most {MAX_PAYLOAD_BYTES:,}",
        )
    # Judge the bytes as sent, not the renderer's document: they are what Qualtrics receives.
    try:
        sent = exactjson.loads(result.body)
    except ValueError as exc:
        verdicts.fail("property.contract-valid", f"the body as sent is not JSON: {exc}")
        return
    validator = validator_for("qualtrics-event")
    if not validator.is_valid(sent):
        errors = validator.errors(sent)
        shown = "; ".join(str(error) for error in errors[:5]) or (
            "rejected by the compiled validator (jsonschema-rs) although jsonschema accepts it: "
            f"{_short(sent)}"
        )
        verdicts.fail(
            "property.contract-valid", f"the payload breaks the qualtrics-event contract: {shown}"
        )
    if expected.kind == "none":
        verdicts.fail(
            "property.exclusion-reasons",
            "a payload was made although no activated audience is realized or exited "
            "(no change to announce)",
        )
        return
    if expected.kind == "exclude" or expected.document is None:
        if expected.reasons != {"payload-too-large"} or size <= MAX_PAYLOAD_BYTES:
            verdicts.fail(
                "property.exclusion-reasons",
                "a payload was made, but the profile must be excluded "
                f"({' or '.join(sorted(expected.reasons))})",
            )
        return
    changed = list(_differences(expected.document, sent, []))
    missing = [f"{path}: {what}" for kind, path, what in changed if kind == "changed"]
    extra = [f"{path}: {what}" for kind, path, what in changed if kind == "extra"]
    if missing:
        verdicts.fail(
            "property.values-unchanged",
            "values did not arrive unchanged: " + "; ".join(missing[:5]) + _more(missing),
        )
    if extra:
        verdicts.fail(
            "property.no-leak",
            "unmapped data leaked into the payload: " + "; ".join(extra[:5]) + _more(extra),
        )


def _more(items: list[str]) -> str:
    return f" (+{len(items) - 5} more)" if len(items) > 5 else ""


def _describe(expected: Expected) -> str:
    if expected.kind == "send":
        return "a payload"
    return f"an exclusion ({' or '.join(sorted(expected.reasons))})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _differences(
    expected: Any, actual: Any, path: list[str | int]
) -> Iterator[tuple[str, str, str]]:
    """``("changed"|"extra", json path, what)``: each way ``actual`` differs from ``expected``."""
    where = json_path(path)
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key, value in expected.items():
            if key not in actual:
                yield "changed", json_path([*path, key]), f"missing (expected {_short(value)})"
            else:
                yield from _differences(value, actual[key], [*path, key])
        for key in actual:
            if key not in expected:
                yield "extra", json_path([*path, key]), f"not mapped ({_short(actual[key])})"
    elif isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            yield from _differences(want, got, [*path, index])
    elif not _same(expected, actual):
        yield "changed", where, f"expected {_short(expected)}, got {_short(actual)}"


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same JSON type (``1 == True`` and ``1 == 1.0`` in Python, not in JSON).

    Numbers are compared as the text they are written as, so ``1.50`` arriving as ``1.5`` or a
    30-digit integer arriving as ``1.2345678901234568e+29`` is a change.
    """
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    number = exactjson.number_text(a)
    if number is not None or exactjson.number_text(b) is not None:
        return number == exactjson.number_text(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and bool(a == b)
