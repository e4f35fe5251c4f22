"""What changed between two versions of a JSON Schema contract, and which changes break.

A change is *breaking* when a consumer of the old contract can be hurt: a document the old version
accepted may be rejected (new required fields, narrowed types or enums, tighter limits, a pattern
added or changed, ``additionalProperties`` closed), or a field it relied on is gone (removed or
renamed properties). Loosening changes and additions are listed as non-breaking. Each change names
its place as a JSON Pointer into the schema (``#/properties/identityMap/minProperties``).

The comparison walks both schemas in parallel: ``properties``, ``patternProperties``,
``additionalProperties``, ``items``, ``definitions``/``$defs``, ``not`` and the ``allOf``/``anyOf``/
``oneOf`` branches by position. References are compared as written (a changed ``$ref`` is reported).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from .errors import UsageError

__all__ = ["Change", "diff_schemas", "load_schema"]

#: Lower bounds: raising (or adding) one rejects documents the old version accepted.
_LOWER: Final = ("minLength", "minItems", "minProperties", "minimum", "exclusiveMinimum")
#: Upper bounds: lowering (or adding) one rejects documents the old version accepted.
_UPPER: Final = ("maxLength", "maxItems", "maxProperties", "maximum", "exclusiveMaximum")
_SUBSCHEMA_MAPS: Final = ("properties", "patternProperties", "definitions", "$defs", "dependencies")
_SUBSCHEMAS: Final = (
    "additionalProperties",
    "items",
    "additionalItems",
    "not",
    "contains",
    "propertyNames",
)
_BRANCHES: Final = ("allOf", "anyOf", "oneOf")
_TYPES: Final = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: where (a JSON Pointer into the schema), what, and whether it breaks."""

    path: str
    message: str
    breaking: bool

    def __str__(self) -> str:
        return f"{'BREAKING' if self.breaking else 'non-breaking'}  {self.path}  {self.message}"


def load_schema(path: str) -> Any:
    """Read a schema file (or a bundled contract by name); unreadable files are usage errors."""
    file = Path(path)
    if not file.exists():
        import contracts

        if path in contracts.CONTRACT_NAMES:
            return contracts.load(path)
    try:
        return json.loads(file.read_bytes())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a JSON document: {exc}") from None


def diff_schemas(old: Any, new: Any) -> list[Change]:
    """Every change from ``old`` to ``new``, breaking ones first, each in document order."""
    changes = list(_diff(old, new, "#"))
    return sorted(changes, key=lambda change: not change.breaking)


def _pointer(path: str, *keys: str | int) -> str:
    escaped = (str(k).replace("~", "~0").replace("/", "~1") for k in keys)
    return "/".join([path, *escaped])


def _types(schema: dict[str, Any]) -> frozenset[str] | None:
    value = schema.get("type")
    if value is None:
        return None
    types = frozenset([value] if isinstance(value, str) else value)
    # "number" accepts integers, so "integer" within "number" is no widening of its own.
    return types


def _accepts(types: frozenset[str] | None, kind: str) -> bool:
    if types is None:
        return True
    return kind in types or (kind == "integer" and "number" in types)


def _diff(old: Any, new: Any, path: str) -> Iterator[Change]:
    if old == new:
        return
    if (
        isinstance(old, bool)
        or isinstance(new, bool)
        or not isinstance(old, dict)
        or not isinstance(new, dict)
    ):
        old_open = old is True or old == {}
        new_open = new is True or new == {}
        if old is False and new is not False:
            yield Change(path, f"schema loosened from false to {json.dumps(new)[:60]}", False)
        elif new is False:
            yield Change(path, "schema closed: now rejects everything (false)", True)
        elif old_open and isinstance(new, dict):
            yield from _diff({}, new, path)
        elif isinstance(old, dict) and new_open:
            yield from _diff(old, {}, path)
        else:
            yield Change(
                path, f"changed from {json.dumps(old)[:60]} to {json.dumps(new)[:60]}", True
            )
        return
    yield from _diff_keywords(old, new, path)
    yield from _diff_properties(old, new, path)
    for keyword in _SUBSCHEMA_MAPS[1:]:
        old_map, new_map = old.get(keyword, {}), new.get(keyword, {})
        if not isinstance(old_map, dict) or not isinstance(new_map, dict):
            continue
        for key in old_map.keys() | new_map.keys():
            where = _pointer(path, keyword, key)
            if key not in new_map:
                breaking = keyword in ("definitions", "$defs")
                yield Change(where, f"{keyword} entry {key!r} removed", breaking)
            elif key not in old_map:
                breaking = keyword in ("patternProperties", "dependencies")
                yield Change(where, f"{keyword} entry {key!r} added", breaking)
            else:
                yield from _diff(old_map[key], new_map[key], where)
    for keyword in _SUBSCHEMAS:
        if keyword in old or keyword in new:
            yield from _diff_subschema(old, new, keyword, path)
    for keyword in _BRANCHES:
        old_list, new_list = old.get(keyword, []), new.get(keyword, [])
        for index in range(max(len(old_list), len(new_list))):
            where = _pointer(path, keyword, index)
            if index >= len(new_list):
                breaking = keyword != "allOf"
                yield Change(where, f"{keyword} branch {index} removed", breaking)
            elif index >= len(old_list):
                yield Change(where, f"{keyword} branch {index} added", keyword == "allOf")
            else:
                yield from _diff(old_list[index], new_list[index], where)


def _diff_subschema(
    old: dict[str, Any], new: dict[str, Any], keyword: str, path: str
) -> Iterator[Change]:
    where = _pointer(path, keyword)
    before, after = old.get(keyword, True), new.get(keyword, True)
    if keyword == "additionalProperties" and before is not False and after is False:
        yield Change(
            where, "additionalProperties changed to false: unknown keys are now rejected", True
        )
        return
    if keyword == "additionalProperties" and before is False and after is not False:
        yield Change(
            where, "additionalProperties no longer false: unknown keys are now accepted", False
        )
        return
    if isinstance(before, list) or isinstance(after, list):
        if before != after:
            yield Change(where, f"{keyword} changed (tuple form)", True)
        return
    yield from _diff(before, after, where)


def _diff_properties(old: dict[str, Any], new: dict[str, Any], path: str) -> Iterator[Change]:
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    if not isinstance(old_props, dict) or not isinstance(new_props, dict):
        return
    removed = [k for k in old_props if k not in new_props]
    added = [k for k in new_props if k not in old_props]
    renamed: dict[str, str] = {}
    for key in removed:
        twin = next(
            (a for a in added if a not in renamed.values() and new_props[a] == old_props[key]), None
        )
        if twin is not None:
            renamed[key] = twin
    for key in removed:
        where = _pointer(path, "properties", key)
        if key in renamed:
            yield Change(where, f"property {key!r} renamed to {renamed[key]!r}", True)
        else:
            yield Change(where, f"property {key!r} removed", True)
    for key in added:
        if key in renamed.values():
            continue
        required = key in new.get("required", [])
        where = _pointer(path, "properties", key)
        yield Change(
            where, f"property {key!r} added" + (" (required)" if required else ""), required
        )
    for key in old_props.keys() & new_props.keys():
        yield from _diff(old_props[key], new_props[key], _pointer(path, "properties", key))


def _diff_keywords(old: dict[str, Any], new: dict[str, Any], path: str) -> Iterator[Change]:
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for key in sorted(new_required - old_required):
        yield Change(_pointer(path, "required"), f"{key!r} is now required", True)
    for key in sorted(old_required - new_required):
        yield Change(_pointer(path, "required"), f"{key!r} is no longer required", False)

    old_types, new_types = _types(old), _types(new)
    if old_types != new_types:
        where = _pointer(path, "type")
        lost = sorted(t for t in (old_types or _TYPES) if not _accepts(new_types, t))
        gained = sorted(t for t in (new_types or _TYPES) if not _accepts(old_types, t))
        if lost:
            yield Change(where, f"type narrowed: {', '.join(lost)} no longer accepted", True)
        if gained:
            yield Change(where, f"type widened: {', '.join(gained)} now accepted", False)

    for keyword in ("enum",):
        if keyword not in old and keyword not in new:
            continue
        where = _pointer(path, keyword)
        if keyword not in old:
            yield Change(where, f"enum added: only {json.dumps(new[keyword])[:80]} accepted", True)
        elif keyword not in new:
            yield Change(where, "enum removed: any value accepted", False)
        else:
            lost_values = [v for v in old[keyword] if v not in new[keyword]]
            gained_values = [v for v in new[keyword] if v not in old[keyword]]
            if lost_values:
                yield Change(
                    where, f"enum narrowed: {json.dumps(lost_values)[:80]} no longer accepted", True
                )
            if gained_values:
                yield Change(
                    where, f"enum widened: {json.dumps(gained_values)[:80]} now accepted", False
                )
    if old.get("const", _NONE) != new.get("const", _NONE):
        where = _pointer(path, "const")
        yield Change(where, "const added or changed", "const" in new)

    for keyword in _LOWER:
        yield from _bound(old, new, path, keyword, tighter=lambda a, b: b > a)
    for keyword in _UPPER:
        yield from _bound(old, new, path, keyword, tighter=lambda a, b: b < a)
    for keyword in ("pattern", "format", "multipleOf", "$ref"):
        if old.get(keyword, _NONE) == new.get(keyword, _NONE):
            continue
        where = _pointer(path, keyword)
        if keyword not in new:
            yield Change(where, f"{keyword} removed ({old[keyword]!r:.60})", keyword == "$ref")
        elif keyword not in old:
            yield Change(where, f"{keyword} added ({new[keyword]!r:.60})", True)
        else:
            yield Change(
                where, f"{keyword} changed from {old[keyword]!r:.60} to {new[keyword]!r:.60}", True
            )
    if old.get("uniqueItems") is not True and new.get("uniqueItems") is True:
        yield Change(_pointer(path, "uniqueItems"), "uniqueItems now required", True)
    if old.get("$id") != new.get("$id") and path == "#":
        yield Change(
            _pointer(path, "$id"),
            f"$id changed from {old.get('$id')!r} to {new.get('$id')!r}",
            False,
        )


_NONE: Final = object()


def _bound(
    old: dict[str, Any], new: dict[str, Any], path: str, keyword: str, *, tighter: Any
) -> Iterator[Change]:
    before, after = old.get(keyword), new.get(keyword)
    if before == after:
        return
    where = _pointer(path, keyword)
    if after is None:
        yield Change(where, f"{keyword} {before} removed", False)
    elif before is None:
        yield Change(where, f"{keyword} {after} added", True)
    elif (
        isinstance(before, int | float)
        and isinstance(after, int | float)
        and tighter(before, after)
    ):
        yield Change(where, f"{keyword} tightened from {before} to {after}", True)
    else:
        yield Change(where, f"{keyword} relaxed from {before} to {after}", False)
