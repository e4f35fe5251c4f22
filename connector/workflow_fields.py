"""The partner's workflow fields: derived from the mappings, or declared and traced back to them.

A declared field that no mapping can feed (its JSONPath matches nothing in the fullest payload
the mappings make) is warned about at load, with the mapped target it probably meant: live, it
would never hold a value.

A Qualtrics JSON Event workflow names each field it reads with a JSONPath into the event body.
Without a ``[workflow] fields`` table the fields are derived (one per identity and attribute
mapping, at the path the renderer writes); declared fields are checked (unique names, JSONPaths
that compile) and each learns the mapping that feeds it, so a report can say which mapping a
missing field needs. Qualtrics lets a workflow define at most ``MAX_MANUAL_FIELDS`` by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import jsonpath

from contracts.facts import LIMITS

from .errors import ActivationError
from .model import AttributeMapping, IdentityMapping, WorkflowField
from .paths import json_path, set_path
from .suggest import did_you_mean

__all__ = [
    "MAX_MANUAL_FIELDS",
    "cap_fields",
    "declared_fields",
    "derive_fields",
    "identity_jsonpath",
    "mock_fields",
    "nearest_target",
    "unfed_warnings",
]

#: A Qualtrics workflow defines at most this many JSON Event fields by hand.
MAX_MANUAL_FIELDS: Final = LIMITS.fields_per_workflow


def identity_jsonpath(namespace: str) -> str:
    """Where the renderer writes identity ``namespace``'s first id."""
    return json_path(["identityMap", namespace, 0, "id"])


def derive_fields(
    identities: tuple[IdentityMapping, ...], attributes: tuple[AttributeMapping, ...]
) -> tuple[WorkflowField, ...]:
    """One field per mapping; identity field names are made unique (``email``, ``email_2``)."""
    fields: list[WorkflowField] = []
    names: set[str] = set()
    for identity in identities:
        name = identity.target
        suffix = 2
        while name in names:
            name, suffix = f"{identity.target}_{suffix}", suffix + 1
        names.add(name)
        fields.append(
            WorkflowField(
                name,
                identity_jsonpath(identity.source),
                False,
                f"identities: {identity.source} -> {identity.target}",
            )
        )
    for attribute in attributes:
        fields.append(
            WorkflowField(
                attribute.target,
                json_path(attribute.target_keys),
                False,
                f"attributes: {attribute.source} -> {attribute.target}",
            )
        )
    return tuple(fields)


def declared_fields(
    raw: list[Mapping[str, Any]],
    identities: tuple[IdentityMapping, ...],
    attributes: tuple[AttributeMapping, ...],
    source: str,
    problems: list[ActivationError],
    *,
    audience_ids: Sequence[str],
) -> tuple[WorkflowField, ...]:
    """The ``[workflow] fields`` table of file ``source``, each with its feeder; what is wrong
    with it goes to ``problems``. ``audience_ids`` are the activated audiences (the keys of the
    payload's ``segmentMembership.ups``)."""
    feeders = {f.jsonpath: f.feeds_from for f in derive_fields(identities, attributes)}
    skeleton = _skeleton(identities, attributes, audience_ids)
    seen: set[str] = set()
    fields: list[WorkflowField] = []
    for index, entry in enumerate(raw):
        name = entry["name"]
        if name in seen:
            problems.append(
                ActivationError(
                    f"field name {name!r} appears twice",
                    file=source,
                    key_path=f"workflow.fields[{index}].name",
                )
            )
        seen.add(name)
        # The workflow-field contract's pattern admits only paths that compile (the mock's
        # property test checks), so the schema has already refused any that would not.
        compiled = jsonpath.compile(entry["jsonpath"])
        feeder = _feeder(entry["jsonpath"], feeders) or _skeleton_feeder(compiled, skeleton)
        fields.append(
            WorkflowField(name, entry["jsonpath"], bool(entry.get("required", False)), feeder)
        )
    return tuple(fields)


def _skeleton(
    identities: tuple[IdentityMapping, ...],
    attributes: tuple[AttributeMapping, ...],
    audience_ids: Sequence[str],
) -> dict[str, Any]:
    """The fullest payload the mappings can make, each value naming the mapping that writes it:
    a field whose JSONPath matches nothing here can never receive a value. Every object and
    list in it holds at least one value (an activation has an identity and an audience)."""
    document: dict[str, Any] = {}
    for attribute in attributes:
        set_path(document, attribute.target_keys, f"attributes: {attribute.source} -> "
                 f"{attribute.target}")  # fmt: skip
    document["identityMap"] = {
        i.source: [{"id": f"identities: {i.source} -> {i.target}"}] for i in identities
    }
    document["segmentMembership"] = {
        "ups": {
            aid: {"status": "audiences", "lastQualificationTime": "audiences"}
            for aid in audience_ids
        }
    }
    return document


def _skeleton_feeder(compiled: Any, skeleton: dict[str, Any]) -> str | None:
    """The mappings whose values JSONPath ``compiled`` finds in ``skeleton``, or ``None``."""
    found: set[str] = set()

    def collect(node: Any) -> None:
        if isinstance(node, str):
            found.add(node)
        elif isinstance(node, dict):
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    try:
        matches = compiled.findall(skeleton)
    except jsonpath.JSONPathError:
        return None
    for match in matches:
        collect(match)
    # Every container in the skeleton holds a value, so whatever matches names its mappings.
    return "; ".join(sorted(found)) or None


def unfed_warnings(
    fields: tuple[WorkflowField, ...],
    identities: tuple[IdentityMapping, ...],
    attributes: tuple[AttributeMapping, ...],
    source: str,
) -> list[str]:
    """One warning per declared field no mapping can feed, naming the nearest target."""
    targets = {f.jsonpath: f.feeds_from for f in derive_fields(identities, attributes)}
    warnings = []
    for index, item in enumerate(fields):
        if item.feeds_from is not None:
            continue
        guess = nearest_target(item.jsonpath, tuple(targets))
        hint = (
            f"; did you mean {guess!r} ({targets[guess]})?"
            if guess
            else f"; mapped targets: {', '.join(list(targets)[:10])}"
        )
        kind = "required" if item.required else "optional"
        warnings.append(
            f"{source}: workflow.fields[{index}]: {kind} field {item.name!r} "
            f"({item.jsonpath}) can never receive a value: no mapped target or identity is "
            f"at that path{hint}"
        )
    return warnings


def nearest_target(path: str, targets: tuple[str, ...]) -> str | None:
    """The mapped JSONPath ``path`` probably meant (``$.loyaltyTier`` -> ``$.loyalty_tier``)."""
    guess = did_you_mean(path, targets)
    if guess is not None:
        return guess
    names = _names(path)
    if not names:
        return None
    # Identity paths all end in ``id``: by leaf, only attribute targets can be meant.
    by_leaf = {_names(t)[-1]: t for t in targets if not t.startswith("$.identityMap")}
    found = did_you_mean(names[-1], by_leaf)
    return by_leaf[found] if found is not None else None


def _names(path: str) -> list[str]:
    """The names in a JSONPath, its indexes left out: ``$.a[0]['c d']`` -> ``['a', 'c d']``."""
    names = re.findall(r"[A-Za-z0-9_\-]+|'[^']*'|\"[^\"]*\"", path)
    return [n.strip("'\"") for n in names if not n.isdigit()]


def _feeder(path: str, feeders: Mapping[str, str | None]) -> str | None:
    """The mapping whose output lands at (or under) JSONPath ``path``, if any."""
    normalized = _dotted(path)
    for candidate, feeder in feeders.items():
        plain = _dotted(candidate)
        if (
            normalized == plain
            or normalized.startswith(plain + ".")
            or normalized.startswith(plain + "[")
        ):
            return feeder
    if normalized.startswith("$.identityMap."):
        namespace = normalized.removeprefix("$.identityMap.").split("[")[0].split(".")[0]
        for candidate, feeder in feeders.items():
            if _dotted(candidate).startswith(f"$.identityMap.{namespace}["):
                return feeder
    return None


def _dotted(path: str) -> str:
    """JSONPath ``path`` with its bracketed names dotted: ``$['a b'].c`` -> ``$.a b.c``."""
    return path.replace("['", ".").replace("']", "").replace('["', ".").replace('"]', "")


def mock_fields(fields: Sequence[WorkflowField]) -> tuple[list[dict[str, Any]], str]:
    """The fields a mock workflow can define for ``fields``, as admin API bodies, and a note.

    Required fields come first, so that the cap drops optional ones; past
    ``MAX_MANUAL_FIELDS`` the rest are dropped and the note (``""`` when none are) says so.
    Certification and sender certification both build their workflow here.
    """
    ordered = sorted(fields, key=lambda f: not f.required)
    return cap_fields(
        [{"name": f.name, "jsonpath": f.jsonpath, "required": f.required} for f in ordered]
    )


def cap_fields(bodies: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """The first ``MAX_MANUAL_FIELDS`` field bodies, and a note naming what was dropped."""
    if len(bodies) <= MAX_MANUAL_FIELDS:
        return bodies, ""
    note = (
        f" (first {MAX_MANUAL_FIELDS} of {len(bodies)} workflow fields: "
        f"a workflow defines at most {MAX_MANUAL_FIELDS})"
    )
    return bodies[:MAX_MANUAL_FIELDS], note
