"""Contract validation: a compiled yes/no on the hot path, detailed errors when it says no.

jsonschema-rs answers "is this valid?" about a hundred times faster than jsonschema, which matters
because every payload is checked before it may be sent. When the answer is no (rare, and the
moment a person reads the result), jsonschema produces every error with its JSON path. Both are
compiled once per contract.

Documents may hold ``exactjson.ExactNumber`` (a number kept as its text), which neither validator
knows. jsonschema-rs only looks at the values a keyword constrains, and answers "invalid" (or
raises) where it meets one; for a schema without negation (``not``, ``oneOf``, ``if``) a "valid"
is therefore trustworthy, and only a "no" is checked again on ``exactjson.plain`` stand-ins. That
keeps the hot path one call.
"""

from __future__ import annotations

import re
from functools import cache, cached_property
from typing import Any, Final

import jsonschema
import jsonschema_rs

import contracts
from contracts.facts import LIMITS

from . import exactjson
from .errors import ContractViolation, ViolationDetail
from .paths import json_path
from .schema_errors import describe

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "ContractValidator",
    "payload_violations",
    "validator_for",
]

#: Qualtrics' limit on a JSON Event body: 100 KB, read as bytes of UTF-8 as sent (contracts/facts.json).
MAX_PAYLOAD_BYTES: Final = LIMITS.body_bytes


class ContractValidator:
    """One contract, compiled: ``is_valid`` is fast, ``errors`` is thorough."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.schema = contracts.load(name)
        self.version = contracts.version(name)
        self._fast = jsonschema_rs.validator_for(self.schema)
        self._trust_valid = not _uses_negation(self.schema)

    def __repr__(self) -> str:
        return f"ContractValidator({self.name!r}, version={self.version!r})"

    @cached_property
    def _detailed(self) -> jsonschema.protocols.Validator:
        validator: jsonschema.protocols.Validator = _EcmaDraft7Validator(self.schema)
        return validator

    def is_valid(self, document: Any) -> bool:
        if self._trust_valid:
            try:
                if self._fast.is_valid(document):
                    return True
            except ValueError:  # "Unsupported type": an ExactNumber where a keyword looked
                pass
            else:
                if not exactjson.contains_exact(document):
                    return False
        return bool(self._fast.is_valid(exactjson.plain(document)))

    def schema_errors(self, document: Any) -> list[jsonschema.ValidationError]:
        """jsonschema's own errors, read with ECMA-262's ``$`` like ``is_valid``: so a document
        ``is_valid`` refuses always has at least one."""
        return list(self._detailed.iter_errors(exactjson.plain(document)))

    def errors(self, document: Any) -> list[ViolationDetail]:
        """Every violation, ordered by location, each with its JSON path."""
        found = sorted(self.schema_errors(document), key=lambda e: list(map(str, e.path)))
        return [ViolationDetail(json_path(error.absolute_path), describe(error)) for error in found]

    def check(self, document: Any, *, source: str = "") -> None:
        """Raise ``ContractViolation`` with every error unless ``document`` is valid."""
        if not self.is_valid(document):
            raise ContractViolation(self.name, self.errors(document) or _opaque(), source=source)


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    """``pattern`` with ECMA-262's ``$`` (end of input), as JSON Schema and jsonschema-rs read it.

    Python's ``$`` also matches before a final newline, so stock jsonschema accepts
    ``"a@example.com\\n"`` where every other validator refuses it.
    """
    if not isinstance(instance, str):
        return
    if _ecma_regex(pattern).search(instance) is None:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def _ecma_regex(pattern: str) -> re.Pattern[str]:
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


_extend: Any = jsonschema.validators.extend  # untyped in types-jsonschema
_EcmaDraft7Validator = _extend(jsonschema.Draft7Validator, {"pattern": _ecma_pattern})


def _uses_negation(schema: Any) -> bool:
    """Whether a keyword could turn an unrecognised value's "invalid" into a "valid"."""
    if isinstance(schema, dict):
        return any(k in schema for k in ("not", "oneOf", "if")) or any(
            _uses_negation(v) for v in schema.values()
        )
    if isinstance(schema, list):
        return any(_uses_negation(v) for v in schema)
    return False


def _opaque() -> list[ViolationDetail]:
    # The two validators disagree only if one has a bug; say so rather than pass silently.
    return [ViolationDetail("$", "rejected by the compiled validator only")]


@cache
def validator_for(name: str) -> ContractValidator:
    """The compiled validator for contract ``name``, shared by every caller."""
    return ContractValidator(name)


def payload_violations(document: Any, size: int) -> list[ViolationDetail]:
    """Every way a payload of ``size`` serialized bytes breaks the Qualtrics event contract."""
    found: list[ViolationDetail] = []
    if size > MAX_PAYLOAD_BYTES:
        found.append(
            ViolationDetail(
                "$", f"body is {size:,} bytes; Qualtrics accepts at most {MAX_PAYLOAD_BYTES:,}"
            )
        )
    validator = validator_for("qualtrics-event")
    if not validator.is_valid(document):
        found.extend(validator.errors(document) or _opaque())
    return found
