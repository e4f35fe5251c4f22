"""Admin requests checked against the OpenAPI document: the document is the one source of rules.

Every request body and query string of ``/__admin/`` is validated against the schema that
:func:`mock_qualtrics.openapi.document` publishes for its operation (built from the live config,
so ``maxItems`` and the long-poll maximum follow the configured limits). What JSON Schema cannot
say (a field name used twice, a JSONPath that does not compile, an id that cannot change) stays in
the ``parse_*`` functions. A failure is a :class:`~mock_qualtrics.workflows.ValidationError` whose
message starts with the field: ``fields[2].name: ...``, ``colour: unknown key``, ``timeout: ...``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError
from jsonschema.exceptions import best_match

from .config import Settings
from .openapi import JSONPATH, NON_BLANK, document
from .workflows import ValidationError

__all__ = ["AdminSchema", "admin_schema"]


def _where(path: Any, prefix: str = "") -> str:
    """``fields[0].name`` for the JSON path ``["fields", 0, "name"]``."""
    text = prefix
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(error: SchemaError, prefix: str = "") -> str:
    where = _where(error.absolute_path, prefix)
    required: Any = error.validator_value
    schema: Any = error.schema
    if error.validator == "required" and isinstance(error.instance, Mapping):
        missing = [k for k in required if k not in error.instance]
        return f"{_where([missing[0]], where)}: required"
    if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
        known = schema.get("properties", {})
        extra = sorted(k for k in error.instance if k not in known)
        return f"{_where([extra[0]], where)}: unknown key"
    if error.validator == "uniqueItems" and isinstance(error.instance, list):
        return _duplicate(error.instance, where)
    return f"{where or 'body'}: {_describe(error)}"


def _duplicate(items: list[Any], where: str) -> str:
    """``fields[1].name: duplicate field name 'x'`` for the first item equal to an earlier one,
    as the handler words a repeated field name (equal items repeat their name too)."""
    for index, item in enumerate(items):
        if item in items[:index]:
            if isinstance(item, Mapping) and "name" in item:
                return f"{where}[{index}].name: duplicate field name {item['name']!r}"
            return f"{where}[{index}]: the same as an earlier item"
    return f"{where}: items must differ"


_TYPES = {
    "object": "a JSON object",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
}


def _describe(error: SchemaError) -> str:
    """The rule broken, in words; never the value itself for strings (it may be a token)."""
    rule: Any = error.validator_value
    value: Any = error.instance
    shown = (
        f", got {value!r}" if isinstance(value, int | float) and not isinstance(value, bool) else ""
    )
    match error.validator:
        case "type":
            kinds = [rule] if isinstance(rule, str) else list(rule)
            return "must be " + " or ".join(_TYPES.get(k, k) for k in kinds)
        case "minLength":
            return "must not be empty" if rule == 1 else f"must be at least {rule} characters"
        case "maxLength":
            return f"must be at most {rule} characters"
        case "pattern" if rule == NON_BLANK:
            return "must not be blank"
        case "pattern" if rule == JSONPATH:
            return (
                "must be a JSONPath of $ and steps such as .name, ..name, [0], [*] or ['name']"
                " (filters and slices are not taken)"
            )
        case "pattern":
            return f"must match {rule}"
        case "maxItems":
            return f"at most {rule} items, got {len(value)}"
        case "minimum":
            return f"must be at least {rule}{shown}"
        case "maximum":
            return f"must be at most {rule}{shown}"
        case "enum":
            return "must be one of " + ", ".join(str(v) for v in rule)
        case "const":
            return f"must be {rule!r}"
    return f"breaks the schema's {error.validator!r} rule"


class AdminSchema:
    """The request schemas of one OpenAPI document, by ``operationId``."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        components = doc["components"]
        self._bodies: dict[str, Draft202012Validator] = {}
        self._params: dict[str, dict[str, tuple[dict[str, Any], Draft202012Validator]]] = {}
        for item in doc["paths"].values():
            shared = item.get("parameters", [])
            for method, operation in item.items():
                if method == "parameters":
                    continue
                op_id = operation["operationId"]
                content = operation.get("requestBody", {}).get("content", {})
                if "application/json" in content:
                    schema = content["application/json"]["schema"]
                    self._bodies[op_id] = Draft202012Validator({**schema, "components": components})
                self._params[op_id] = {
                    p["name"]: (p["schema"], Draft202012Validator(p["schema"]))
                    for p in [*shared, *operation.get("parameters", [])]
                    if p["in"] == "query"
                }

    def body(self, operation_id: str, data: Any) -> None:
        """Raise :class:`ValidationError` naming the field if ``data`` breaks the schema."""
        errors = list(self._bodies[operation_id].iter_errors(data))
        if len(errors) == 1 and errors[0].validator == "anyOf":
            # "one of these is needed": the schema's description says which, better than the
            # first alternative's "required" that best_match would pick.
            where = _where(errors[0].absolute_path) or "body"
            raise ValidationError(f"{where}: {errors[0].schema.get('description', 'incomplete')}")
        error = best_match(errors)
        if error is not None:
            raise ValidationError(_message(error))

    def query(self, operation_id: str, args: Mapping[str, str]) -> dict[str, Any]:
        """The operation's query parameters, typed as documented (defaults filled in)."""
        values: dict[str, Any] = {}
        for name, (schema, validator) in self._params[operation_id].items():
            raw = args.get(name)
            if raw is None:  # absent; ``?limit=`` is present and empty, and checked as such
                values[name] = schema.get("default")
                continue
            value = _typed(name, raw, schema.get("type"))
            error = best_match(validator.iter_errors(value))
            if error is not None:
                raise ValidationError(f"{name}: {_describe(error)}")
            values[name] = value
        return values


def _typed(name: str, raw: str, kind: Any) -> Any:
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            raise ValidationError(f"{name}: must be an integer, got {raw!r}") from None
    if kind == "number":
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ValidationError(f"{name}: must be a number, got {raw!r}")
        return value
    return raw


@cache
def _cached(max_fields: int, max_wait: int) -> AdminSchema:
    return AdminSchema(document(Settings(max_fields=max_fields, max_wait_seconds=max_wait)))


def admin_schema(settings: Settings) -> AdminSchema:
    """The request schemas of the document a mock with ``settings`` serves (built once per
    limits)."""
    return _cached(settings.max_fields, settings.max_wait_seconds)
