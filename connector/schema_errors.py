"""How a JSON Schema error is said to a user.

jsonschema's own messages are written for schema authors (``'x' is a required property``,
``Additional properties are not allowed``). Two readers meet them here: a payload that breaks a
contract becomes one line per error with its JSON path (``describe``), and an activation file
that breaks the ``activation`` contract becomes one ``ActivationError`` naming the key path a
TOML user can find for every problem, one line each, unknown keys first
(``activation_error``). Both say an unknown key close to an allowed one as a probable typo.
"""

from __future__ import annotations

from typing import Any, Final

import jsonschema

from .errors import ActivationError
from .paths import json_path
from .redact import redact_url
from .suggest import did_you_mean

__all__ = ["activation_error", "describe"]

#: What each patterned activation key must look like (keys by their last path element).
_PATTERN_MEANING: Final = dict(
    (
        ("url", "an absolute http(s) URL"),
        ("api_token_env", "an environment variable name (letters, digits, _)"),
        (
            "jsonpath",
            "a JSONPath such as $.identityMap.Email[0].id ($, then .name, [0], [*] or ['name'] steps)",
        ),
        ("name", "a name with a visible character"),
    )
)
#: Activation errors are reported in the order a reader meets the tables.
_TOP_ORDER: Final = {
    "destination": 0,
    "audiences": 1,
    "identities": 2,
    "attributes": 3,
    "consent": 4,
    "workflow": 5,
}


def _allowed_keys(error: Any) -> list[str]:
    """The keys an ``additionalProperties`` error's object may hold, sorted."""
    return sorted(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []


def describe(error: jsonschema.ValidationError) -> str:
    """One payload error, for a line that already carries its JSON path."""
    if error.validator == "required":
        return f"missing required key: {error.message.split(' is a required')[0]}"
    if error.validator == "pattern":
        described = error.schema.get("description") if isinstance(error.schema, dict) else None
        what = f" ({described})" if described else ""
        return f"{error.instance!r} does not match the expected format{what}"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = _allowed_keys(error)
        unknown = [key for key in error.instance if key not in allowed]
        if unknown and allowed:
            guesses = [(key, did_you_mean(key, allowed)) for key in unknown]
            return "; ".join(
                f"{key!r}: unknown key" + (f"; did you mean {guess!r}?" if guess else "")
                for key, guess in guesses
            )
    return error.message


def activation_error(errors: list[Any], source: str) -> ActivationError:
    """The activation file ``source``'s schema ``errors`` (at least one) as one error that says
    every problem, one line each: unknown keys first (a probable typo with its did-you-mean before
    one with none), then the rest in reading order. A "missing" key that a typo explains is the
    same mistake, said once: beside the typo. One string rule per value (see
    :func:`_one_per_string`)."""
    errors = _one_per_string(sorted(errors, key=_reading_order))
    typos, explained = _typos(errors, source)
    rest: list[ActivationError] = []
    said: set[str] = set()
    for error in errors:
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            continue  # said above, one line per unknown key
        for problem in _schema_problems(error, source, explained):
            line = f"{problem.key_path}: {problem.problem}"
            if line not in said:  # jsonschema repeats a "required" error per missing key
                said.add(line)
                rest.append(problem)
    # Every error is said at least once: an unknown key as its typo, a missing key beside the
    # typo that explains it or on its own line, any other error on its own line.
    problems = [*typos, *rest]
    return ActivationError(
        problems[0].problem, file=source, key_path=problems[0].key_path, more=problems[1:]
    )


_STRING_RULES: Final = frozenset({"minLength", "maxLength", "pattern"})


def _one_per_string(errors: list[Any]) -> list[Any]:
    """One string rule per value: ``""`` breaks both ``minLength`` and "a visible character",
    which is one mistake, not two (the first, in schema order, words it)."""
    seen: set[tuple[str, ...]] = set()
    kept = []
    for error in errors:
        if error.validator in _STRING_RULES:
            where = tuple(map(str, error.absolute_path))
            if where in seen:
                continue
            seen.add(where)
        kept.append(error)
    return kept


def _reading_order(error: Any) -> tuple[int, int, list[str]]:
    path = [str(k) for k in error.absolute_path]
    top = path[0] if path else ""
    if not path and error.validator == "required" and isinstance(error.instance, dict):
        # a top-level "required" error names the missing table; the schema lists each once
        top = next(k for k in error.validator_value if k not in error.instance)
    return (_TOP_ORDER.get(top, 9), len(path), path)


def _key_path(elements: list[str | int]) -> str:
    """``["identities", 0, "target"]`` -> ``identities[0].target`` (TOML users think in keys)."""
    return json_path(elements).removeprefix("$").removeprefix(".")


def _typos(errors: list[Any], source: str) -> tuple[list[ActivationError], set[tuple[str, str]]]:
    """Every unknown key, as one error each (those with a did-you-mean first), and the missing
    keys they explain ((table's key path, key): the key a typo should have been)."""
    guessed: list[ActivationError] = []
    unguessed: list[ActivationError] = []
    explained: set[tuple[str, str]] = set()
    for error in errors:
        if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
            continue
        allowed = _allowed_keys(error)
        for extra in sorted(set(error.instance) - set(allowed)):
            key_path = _key_path([*error.absolute_path, extra])
            guess = did_you_mean(extra, allowed)
            if guess is None:
                problem = f"unknown key (allowed here: {', '.join(allowed)})"
                unguessed.append(ActivationError(problem, file=source, key_path=key_path))
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
                explained.add((_key_path(list(error.absolute_path)), guess))
            guessed.append(ActivationError(problem, file=source, key_path=key_path))
    return [*guessed, *unguessed], explained


def _schema_problems(
    error: Any, source: str, explained: set[tuple[str, str]]
) -> list[ActivationError]:
    """``error`` as one problem each: a "required" error says every key missing there, except
    the ones a typo ``explained`` ((key path of the table, key) pairs)."""
    elements: list[str | int] = list(error.absolute_path)
    if error.validator != "required":
        return [_schema_error(error, source)]
    instance = error.instance if isinstance(error.instance, dict) else {}
    table = _key_path(elements)
    return [
        ActivationError("required key is missing", file=source, key_path=_key_path([*elements, k]))
        for k in error.validator_value
        if k not in instance and (table, k) not in explained
    ]


def _schema_error(error: Any, source: str) -> ActivationError:
    elements: list[str | int] = list(error.absolute_path)
    instance = error.instance
    kind = error.validator
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
    if kind == "maxLength":  # the value itself is long: its length says enough
        return ActivationError(
            f"is {len(instance)} characters; at most {error.validator_value} are taken",
            file=source,
            key_path=where,
        )
    if kind == "pattern":
        key = str(elements[-1])  # the schema's patterns all sit on keys, none at the top
        what = _PATTERN_MEANING.get(key, "a dotted path such as person.name.firstName")
        shown = redact_url(instance) if key == "url" else instance  # no urlTokenId in errors
        return ActivationError(f"{shown!r} is not {what}", file=source, key_path=where)
    return ActivationError(error.message, file=source, key_path=where)


def _a(expected: object) -> str:
    names = {
        "string": "a string",
        "array": "an array",
        "object": "a table/object",
        "boolean": "a boolean",
    }
    return names.get(str(expected), str(expected))  # the schema's "type"s are single names
