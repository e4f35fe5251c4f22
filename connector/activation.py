"""Loading an activation file: a destination, its audiences, identity and attribute mappings.

An activation is what a user configures in AEP's "Activate destination" flow (its data model:
``model``). Loading it checks, in order: the file can be read and parsed (TOML or JSON), it
satisfies the ``activation`` contract (worded by ``schema_errors``), and the mappings make sense
together (no duplicate or conflicting targets, no reserved targets, data-usage labels that allow
the marketing actions, workflow fields: ``workflow_fields``). Every error names the file, the key
path and the problem; softer problems (non-camelCase targets, more workflow fields than Qualtrics
lets one define by hand) become ``warnings``.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from itertools import accumulate
from pathlib import Path
from typing import Any, Final

from .errors import ActivationError, GovernanceError

# The model's names are re-exported (``X as X``): ``connector.activation`` stays their address.
from .model import Activation as Activation
from .model import AttributeMapping as AttributeMapping
from .model import Audience as Audience
from .model import Consent as Consent
from .model import Destination as Destination
from .model import IdentityMapping as IdentityMapping
from .model import WorkflowField as WorkflowField
from .schema_errors import activation_error
from .validate import validator_for
from .workflow_fields import MAX_MANUAL_FIELDS, declared_fields, derive_fields, unfed_warnings
from .workflow_fields import identity_jsonpath as identity_jsonpath

__all__ = [
    "MAX_MANUAL_FIELDS",
    "identity_jsonpath",
    "load_activation",
    "parse_activation",
]

#: Payload keys the renderer fills itself; a mapping may not target them.
RESERVED_TARGETS: Final = frozenset({"identityMap", "segmentMembership"})
#: C2: no export to a third party (blocks with ``exportToThirdParty``); C12: no export at all.
NO_THIRD_PARTY_LABEL: Final = "C2"
NO_EXPORT_LABEL: Final = "C12"
EXPORT_BLOCKING_LABELS: Final = frozenset({NO_THIRD_PARTY_LABEL, NO_EXPORT_LABEL})
THIRD_PARTY_ACTION: Final = "exportToThirdParty"
_CAMEL_CASE = re.compile(r"^[a-z][a-zA-Z0-9]*$")


def load_activation(path: str | Path) -> Activation:
    """Read, parse and check the activation file at ``path``."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ActivationError(
            f"cannot read the file: {exc.strerror or exc}", file=str(path)
        ) from None
    return parse_activation(data, source=str(path))


def parse_activation(data: bytes, *, source: str = "<activation>") -> Activation:
    """Parse activation ``data`` (TOML or JSON, told apart by ``source``'s suffix or content)."""
    document = _parse(data, source)
    validator = validator_for("activation")
    if not validator.is_valid(document):
        raise activation_error(validator.schema_errors(document), source)
    return _build(document, source, sha256=hashlib.sha256(data).hexdigest())


def _parse(data: bytes, source: str) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ActivationError(
            f"not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r})", file=source
        ) from None
    text = text.removeprefix("\ufeff")
    is_json = source.lower().endswith(".json") or (
        not source.lower().endswith(".toml") and text.lstrip().startswith("{")
    )
    try:
        return json.loads(text) if is_json else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise ActivationError(
            f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", file=source
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ActivationError(f"invalid TOML: {exc}", file=source) from None
    except RecursionError:
        raise ActivationError("document nested too deeply", file=source) from None


def _build(doc: Mapping[str, Any], source: str, *, sha256: str) -> Activation:
    dest = doc["destination"]
    destination = Destination(
        name=dest["name"],
        url=dest["url"],
        username=dest["username"],
        api_token_env=dest["api_token_env"],
        description=dest.get("description", ""),
        marketing_actions=tuple(dest.get("marketing_actions", ())),
    )
    audiences = tuple(Audience(a["id"], a.get("name", "")) for a in doc["audiences"])
    identities = tuple(IdentityMapping(i["source"], i["target"]) for i in doc["identities"])
    attributes = tuple(
        AttributeMapping(a["source"], a["target"], tuple(a.get("labels", ())), a.get("type"))
        for a in doc.get("attributes", ())
    )
    problems = [
        *_unique([a.id for a in audiences], "audiences", "id", "audience", source),
        *_unique(
            [i.source for i in identities], "identities", "source", "identityMap namespace", source
        ),
    ]
    warnings = _check_targets(attributes, source, problems)
    problems += _check_governance(attributes, destination, source)
    consent = None
    if "consent" in doc:
        consent = Consent(doc["consent"]["path"], tuple(doc["consent"]["allow"]))
    raw_fields = doc.get("workflow", {}).get("fields")
    if raw_fields is None:
        fields = derive_fields(identities, attributes)
    else:
        fields = declared_fields(
            raw_fields,
            identities,
            attributes,
            source,
            problems,
            audience_ids=[a.id for a in audiences],
        )
        warnings += unfed_warnings(fields, identities, attributes, source)
    if problems:
        raise _all_of(problems)
    if len(fields) > MAX_MANUAL_FIELDS:
        warnings.append(
            f"{source}: {len(fields)} workflow fields; a Qualtrics workflow defines at most "
            f"{MAX_MANUAL_FIELDS} by hand (the rest need event capture)"
        )
    return Activation(
        source=source,
        destination=destination,
        audiences=audiences,
        identities=identities,
        attributes=attributes,
        consent=consent,
        workflow_fields=fields,
        fields_derived=raw_fields is None,
        warnings=tuple(warnings),
        sha256=sha256,
    )


def _all_of(problems: list[ActivationError]) -> ActivationError:
    """Every problem as one error, the first's kind kept (a governance clash stays one)."""
    first, rest = problems[0], problems[1:]
    if isinstance(first, GovernanceError):
        return GovernanceError(
            first.problem, file=first.file, key_path=first.key_path, fields=first.fields, more=rest
        )
    return ActivationError(first.problem, file=first.file, key_path=first.key_path, more=rest)


def _unique(
    values: list[str], table: str, key: str, what: str, source: str
) -> list[ActivationError]:
    seen: dict[str, int] = {}
    problems = []
    for index, value in enumerate(values):
        if value in seen:
            problems.append(
                ActivationError(
                    f"{what} {value!r} appears twice (also at {table}[{seen[value]}])",
                    file=source,
                    key_path=f"{table}[{index}].{key}",
                )
            )
            continue
        seen[value] = index
    return problems


def _check_targets(
    attributes: tuple[AttributeMapping, ...], source: str, problems: list[ActivationError]
) -> list[str]:
    """The targets' warnings; their errors go to ``problems``."""
    warnings: list[str] = []
    targets: dict[tuple[str, ...], int] = {}  # target key path -> its mapping's index
    extended: dict[tuple[str, ...], int] = {}  # proper prefix -> first mapping extending it
    for index, mapping in enumerate(attributes):
        where = f"attributes[{index}].target"
        keys = mapping.target_keys
        if keys[0] in RESERVED_TARGETS:
            problems.append(
                ActivationError(
                    f"{mapping.target!r} is reserved: the payload's {keys[0]} is filled from the "
                    "identity mappings and audiences",
                    file=source,
                    key_path=where,
                )
            )
            continue
        # A clash is an earlier target equal to this one, a prefix of it, or extending it:
        # looked up by key path (each target's prefixes are indexed), so n targets cost
        # O(n * depth), not O(n^2).
        prefixes = accumulate((key,) for key in keys)  # (a,), (a, b), ... keys itself last
        other_index = next((targets[p] for p in prefixes if p in targets), extended.get(keys))
        if other_index is not None:
            other = attributes[other_index].target_keys
            clash = "is the same target as" if keys == other else "conflicts with"
            problems.append(
                ActivationError(
                    f"{mapping.target!r} {clash} {'.'.join(other)!r} "
                    f"(attributes[{other_index}].target): "
                    "one payload path cannot hold both a value and an object",
                    file=source,
                    key_path=where,
                )
            )
            continue
        targets[keys] = index
        for n in range(1, len(keys)):
            extended.setdefault(keys[:n], index)
        bad = [key for key in keys if not _CAMEL_CASE.match(key)]
        if bad:
            parts = f" ({', '.join(map(repr, bad))})" if bad != [mapping.target] else ""
            warnings.append(
                f"{source}: {where}: {mapping.target!r} is not camelCase{parts}; "
                "Qualtrics' JSON Event docs recommend camelCase field names"
            )
    return warnings


def _check_governance(
    attributes: tuple[AttributeMapping, ...], destination: Destination, source: str
) -> list[ActivationError]:
    """C12 (no export at all) blocks whatever the marketing actions; C2 (no export to a third
    party) blocks when the destination declares ``exportToThirdParty``. AEP's data-usage labels:
    https://experienceleague.adobe.com/en/docs/experience-platform/data-governance/labels/reference
    """
    third_party = THIRD_PARTY_ACTION in destination.marketing_actions
    clashes: list[tuple[int, AttributeMapping, list[str]]] = []
    for index, mapping in enumerate(attributes):
        blocking = [label for label in mapping.labels if label == NO_EXPORT_LABEL]
        if third_party:
            blocking += [label for label in mapping.labels if label == NO_THIRD_PARTY_LABEL]
        if blocking:
            clashes.append((index, mapping, sorted(set(blocking))))
    if not clashes:
        return []
    named = ", ".join(f"{m.source} ({', '.join(labels)})" for _, m, labels in clashes)
    if any(NO_EXPORT_LABEL in labels for _, _, labels in clashes):
        why = f"{NO_EXPORT_LABEL} forbids any export"
        if third_party:
            why += f" and {NO_THIRD_PARTY_LABEL} forbids {THIRD_PARTY_ACTION!r}"
        fix = "remove the mapping"
    else:
        why = f"marketing action {THIRD_PARTY_ACTION!r} is not allowed"
        fix = "remove the mapping or the marketing action"
    return [
        GovernanceError(
            f"governance: {why}: {named}; {fix}",
            file=source,
            key_path=f"attributes[{clashes[0][0]}].labels",
            fields=[m.source for _, m, _ in clashes],
        )
    ]
