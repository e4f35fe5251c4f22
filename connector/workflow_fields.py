"""The partner's workflow fields: derived from the mappings, or declared and traced back to them.

A Qualtrics JSON Event workflow names each field it reads with a JSONPath into the event body.
Without a ``[workflow] fields`` table the fields are derived (one per identity and attribute
mapping, at the path the renderer writes); declared fields are checked (unique names, JSONPaths
that compile) and each learns the mapping that feeds it, so a report can say which mapping a
missing field needs. Qualtrics lets a workflow define at most ``MAX_MANUAL_FIELDS`` by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import jsonpath

from .errors import ActivationError
from .model import AttributeMapping, IdentityMapping, WorkflowField
from .paths import json_path

__all__ = ["MAX_MANUAL_FIELDS", "declared_fields", "derive_fields", "identity_jsonpath"]

#: A Qualtrics workflow defines at most this many JSON Event fields by hand.
MAX_MANUAL_FIELDS: Final = 10


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
) -> tuple[WorkflowField, ...]:
    """The ``[workflow] fields`` table of file ``source``, checked, each with its feeder."""
    feeders = {f.jsonpath: f.feeds_from for f in derive_fields(identities, attributes)}
    seen: set[str] = set()
    fields: list[WorkflowField] = []
    for index, entry in enumerate(raw):
        name = entry["name"]
        if name in seen:
            raise ActivationError(
                f"field name {name!r} appears twice",
                file=source,
                key_path=f"workflow.fields[{index}].name",
            )
        seen.add(name)
        try:
            jsonpath.compile(entry["jsonpath"])
        except jsonpath.JSONPathError as exc:
            raise ActivationError(
                f"invalid JSONPath {entry['jsonpath']!r}: {str(exc).splitlines()[0]}",
                file=source,
                key_path=f"workflow.fields[{index}].jsonpath",
            ) from None
        fields.append(
            WorkflowField(
                name,
                entry["jsonpath"],
                bool(entry.get("required", False)),
                _feeder(entry["jsonpath"], feeders),
            )
        )
    return tuple(fields)


def _feeder(path: str, feeders: Mapping[str, str | None]) -> str | None:
    """The mapping whose output lands at (or under) JSONPath ``path``, if any."""
    normalized = path.replace("['", ".").replace("']", "").replace('["', ".").replace('"]', "")
    for candidate, feeder in feeders.items():
        plain = candidate.replace("['", ".").replace("']", "")
        if (
            normalized == plain
            or normalized.startswith(plain + ".")
            or normalized.startswith(plain + "[")
        ):
            return feeder
    if normalized.startswith("$.identityMap."):
        namespace = normalized.removeprefix("$.identityMap.").split("[")[0].split(".")[0]
        for candidate, feeder in feeders.items():
            if candidate.startswith(f"$.identityMap.{namespace}["):
                return feeder
    return None
