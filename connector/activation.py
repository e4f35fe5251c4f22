"""Loading an activation file: a destination, its audiences, identity and attribute mappings.

An activation is what a user configures in AEP's "Activate destination" flow. Loading it checks,
in order: the file can be read and parsed (TOML or JSON), it satisfies the ``activation``
contract, and the mappings make sense together (no duplicate or conflicting targets, no reserved
targets, data-usage labels that allow the marketing actions). Every error names the file, the key
path and the problem; softer problems (non-camelCase targets, more workflow fields than Qualtrics
lets one define by hand) become ``warnings``.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import jsonpath

from .errors import ActivationError, GovernanceError
from .paths import json_path, split_path
from .redact import redact_url
from .suggest import did_you_mean
from .validate import validator_for

__all__ = [
    "Activation",
    "AttributeMapping",
    "Audience",
    "Consent",
    "Destination",
    "IdentityMapping",
    "WorkflowField",
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
#: A Qualtrics workflow defines at most this many JSON Event fields by hand.
MAX_MANUAL_FIELDS: Final = 10

#: What each patterned key must look like, for messages (keys by their last path element).
_PATTERN_MEANING: Final = dict(
    (
        ("url", "an absolute http(s) URL"),
        ("api_token_env", "an environment variable name (letters, digits, _)"),
        ("jsonpath", "a JSONPath starting with $"),
    )
)
#: Errors are reported in the order a reader meets the tables.
_TOP_ORDER: Final = {
    "destination": 0,
    "audiences": 1,
    "identities": 2,
    "attributes": 3,
    "consent": 4,
    "workflow": 5,
}
_CAMEL_CASE = re.compile(r"^[a-z][a-zA-Z0-9]*$")
_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Destination:
    name: str
    url: str = field(repr=False)
    username: str
    api_token_env: str
    description: str = ""
    marketing_actions: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"Destination(name={self.name!r}, url={redact_url(self.url)!r}, "
            f"username={self.username!r}, api_token_env={self.api_token_env!r})"
        )


@dataclass(frozen=True, slots=True)
class Audience:
    id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class IdentityMapping:
    """``source`` is an identityMap namespace (``Email``); ``target`` is ``email`` or ``external_id``."""

    source: str
    target: str


@dataclass(frozen=True, slots=True)
class AttributeMapping:
    """``source`` is a dotted path in the profile; ``target`` a dotted path in the payload."""

    source: str
    target: str
    labels: tuple[str, ...] = ()

    @property
    def source_keys(self) -> tuple[str, ...]:
        return split_path(self.source)

    @property
    def target_keys(self) -> tuple[str, ...]:
        return split_path(self.target)


@dataclass(frozen=True, slots=True)
class Consent:
    """The profile is sent only if the value at ``path`` is one of ``allow``."""

    path: str
    allow: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WorkflowField:
    """A JSON Event field of the partner's workflow; ``feeds_from`` names the mapping behind it."""

    name: str
    jsonpath: str
    required: bool = False
    feeds_from: str | None = None


@dataclass(frozen=True, slots=True)
class Activation:
    """A loaded, checked activation. ``source`` is the file it came from (for messages)."""

    source: str
    destination: Destination
    audiences: tuple[Audience, ...]
    identities: tuple[IdentityMapping, ...]
    attributes: tuple[AttributeMapping, ...] = ()
    consent: Consent | None = None
    workflow_fields: tuple[WorkflowField, ...] = ()
    fields_derived: bool = True
    warnings: tuple[str, ...] = ()
    sha256: str = ""

    @property
    def audience_ids(self) -> tuple[str, ...]:
        return tuple(audience.id for audience in self.audiences)


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
        raise _schema_error(document, source)
    activation = _build(document, source)
    object.__setattr__(activation, "sha256", hashlib.sha256(data).hexdigest())
    return activation


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


def _reading_order(error: Any) -> tuple[int, int, list[str]]:
    path = [str(k) for k in error.absolute_path]
    top = path[0] if path else ""
    if not path and error.validator == "required" and isinstance(error.instance, dict):
        top = next((k for k in error.validator_value if k not in error.instance), "")
    return (_TOP_ORDER.get(top, 9), len(path), path)


def _key_path(elements: list[str | int]) -> str:
    """``["identities", 0, "target"]`` -> ``identities[0].target`` (TOML users think in keys)."""
    return json_path(elements).removeprefix("$").removeprefix(".")


def _schema_error(document: Any, source: str) -> ActivationError:
    import jsonschema

    errors = sorted(
        jsonschema.Draft7Validator(validator_for("activation").schema).iter_errors(document),
        key=_reading_order,
    )
    built, explained = _typo(errors, source) or (_first_schema_error(errors[0], source), 1)
    if len(errors) > explained:
        more = len(errors) - explained
        built = ActivationError(
            f"{built.problem} (and {more} more problem{'s' if more > 1 else ''})",
            file=source,
            key_path=built.key_path,
        )
    return built


def _typo(errors: list[Any], source: str) -> tuple[ActivationError, int] | None:
    """An unknown key close to an allowed one is a probable typo, reported first; the "missing"
    key it should have been is the same mistake, not another one. ``(error, errors explained)``."""
    for error in errors:
        if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
            continue
        allowed = sorted(error.schema.get("properties", {}))
        for extra in sorted(set(error.instance) - set(allowed)):
            guess = did_you_mean(extra, allowed)
            if guess is None:
                continue
            missing = [
                other
                for other in errors
                if other.validator == "required"
                and list(other.absolute_path) == list(error.absolute_path)
                and guess in other.validator_value
                and guess not in error.instance
            ]
            problem = f"unknown key; did you mean {guess!r}?"
            if missing:
                problem += f" ({guess!r} is required and missing)"
            key_path = _key_path([*error.absolute_path, extra])
            return ActivationError(problem, file=source, key_path=key_path), 1 + len(missing)
    return None


def _first_schema_error(error: Any, source: str) -> ActivationError:
    elements: list[str | int] = list(error.absolute_path)
    instance = error.instance
    kind = error.validator
    if kind == "required":
        missing = next(
            k for k in error.validator_value if not isinstance(instance, dict) or k not in instance
        )
        return ActivationError(
            "required key is missing", file=source, key_path=_key_path([*elements, missing])
        )
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(instance) - set(allowed))
        return ActivationError(
            f"unknown key (allowed here: {', '.join(allowed)})",
            file=source,
            key_path=_key_path([*elements, extra[0]]),
        )
    where = _key_path(elements) or "(top level)"
    if kind == "type":
        expected = error.validator_value
        return ActivationError(
            f"expected {_a(expected)}, got {type(instance).__name__} {instance!r}"[:300],
            file=source,
            key_path=where,
        )
    if kind == "enum":
        options = ", ".join(repr(v) for v in error.validator_value)
        return ActivationError(f"{instance!r} is not one of {options}", file=source, key_path=where)
    if kind == "minItems":
        return ActivationError(
            f"needs at least {error.validator_value} entry", file=source, key_path=where
        )
    if kind == "minLength":
        return ActivationError("must not be empty", file=source, key_path=where)
    if kind == "pattern":
        what = _PATTERN_MEANING.get(
            str(elements[-1]) if elements else "", "a dotted path such as person.name.firstName"
        )
        return ActivationError(f"{instance!r} is not {what}", file=source, key_path=where)
    return ActivationError(error.message, file=source, key_path=where)


def _a(expected: object) -> str:
    names = {
        "string": "a string",
        "array": "an array",
        "object": "a table/object",
        "boolean": "a boolean",
    }
    if isinstance(expected, list):
        return " or ".join(names.get(str(e), str(e)) for e in expected)
    return names.get(str(expected), str(expected))


def _build(doc: Mapping[str, Any], source: str) -> Activation:
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
        AttributeMapping(a["source"], a["target"], tuple(a.get("labels", ())))
        for a in doc.get("attributes", ())
    )
    _unique([a.id for a in audiences], "audiences", "id", "audience", source)
    _unique([i.source for i in identities], "identities", "source", "identityMap namespace", source)
    warnings = _check_targets(attributes, source)
    _check_governance(attributes, destination, source)
    consent = None
    if "consent" in doc:
        consent = Consent(doc["consent"]["path"], tuple(doc["consent"]["allow"]))
    raw_fields = doc.get("workflow", {}).get("fields")
    if raw_fields is None:
        fields = _derive_fields(identities, attributes)
    else:
        fields = _declared_fields(raw_fields, identities, attributes, source)
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
    )


def _unique(values: list[str], table: str, key: str, what: str, source: str) -> None:
    seen: dict[str, int] = {}
    for index, value in enumerate(values):
        if value in seen:
            raise ActivationError(
                f"{what} {value!r} appears twice (also at {table}[{seen[value]}])",
                file=source,
                key_path=f"{table}[{index}].{key}",
            )
        seen[value] = index


def _check_targets(attributes: tuple[AttributeMapping, ...], source: str) -> list[str]:
    warnings: list[str] = []
    targets: dict[tuple[str, ...], int] = {}  # target key path -> its mapping's index
    extended: dict[tuple[str, ...], int] = {}  # proper prefix -> first mapping extending it
    for index, mapping in enumerate(attributes):
        where = f"attributes[{index}].target"
        keys = mapping.target_keys
        if keys[0] in RESERVED_TARGETS:
            raise ActivationError(
                f"{mapping.target!r} is reserved: the payload's {keys[0]} is filled from the "
                "identity mappings and audiences",
                file=source,
                key_path=where,
            )
        # A clash is an earlier target equal to this one, a prefix of it, or extending it:
        # looked up by key path (each target's prefixes are indexed), so n targets cost
        # O(n * depth), not O(n^2).
        other = next((keys[:n] for n in range(1, len(keys) + 1) if keys[:n] in targets), None)
        if other is None and keys in extended:
            other = attributes[extended[keys]].target_keys
        if other is not None:
            other_index = targets.get(other, extended.get(keys, -1))
            clash = "is the same target as" if keys == other else "conflicts with"
            raise ActivationError(
                f"{mapping.target!r} {clash} {'.'.join(other)!r} (attributes[{other_index}].target): "
                "one payload path cannot hold both a value and an object",
                file=source,
                key_path=where,
            )
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
) -> None:
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
        return
    named = ", ".join(f"{m.source} ({', '.join(labels)})" for _, m, labels in clashes)
    if any(NO_EXPORT_LABEL in labels for _, _, labels in clashes):
        why = f"{NO_EXPORT_LABEL} forbids any export"
        if third_party:
            why += f" and {NO_THIRD_PARTY_LABEL} forbids {THIRD_PARTY_ACTION!r}"
        fix = "remove the mapping"
    else:
        why = f"marketing action {THIRD_PARTY_ACTION!r} is not allowed"
        fix = "remove the mapping or the marketing action"
    raise GovernanceError(
        f"governance: {why}: {named}; {fix}",
        file=source,
        key_path=f"attributes[{clashes[0][0]}].labels",
        fields=[m.source for _, m, _ in clashes],
    )


def identity_jsonpath(namespace: str) -> str:
    step = f".{namespace}" if _SIMPLE_KEY.match(namespace) else json_path([namespace])[1:]
    return f"$.identityMap{step}[0].id"


def _derive_fields(
    identities: tuple[IdentityMapping, ...], attributes: tuple[AttributeMapping, ...]
) -> tuple[WorkflowField, ...]:
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


def _declared_fields(
    raw: list[Mapping[str, Any]],
    identities: tuple[IdentityMapping, ...],
    attributes: tuple[AttributeMapping, ...],
    source: str,
) -> tuple[WorkflowField, ...]:
    feeders = {f.jsonpath: f.feeds_from for f in _derive_fields(identities, attributes)}
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
    if normalized.startswith("$.identityMap.") or normalized.startswith("$.segmentMembership"):
        namespace = normalized.removeprefix("$.identityMap.").split("[")[0].split(".")[0]
        for candidate, feeder in feeders.items():
            if candidate.startswith(f"$.identityMap.{namespace}["):
                return feeder
    return None
