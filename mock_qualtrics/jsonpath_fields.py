"""JSON Event fields: a name, a JSONPath query and whether the run needs it.

Qualtrics reads a workflow's fields out of the event body with JSONPath; the mock does the same
with the ``python-jsonpath`` library (the one certification uses), so a path that works here means
the same thing there. Queries are compiled once, when the workflow is saved. Plain paths of names
and non-negative indices (``$.identityMap.Email[0].id``, nearly every workflow's) are also resolved
by a few dictionary look-ups, ten times faster; anything else, or any surprise on the way (an index
applied to an object, say), goes to the library.

A plain path is compiled only when it first needs the library: every plain path is valid JSONPath
(a test holds the library to that), and importing the library costs 45-55 ms, mostly compiling its
regular expressions, which a pytest run whose workflows all have plain paths need not pay.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from contracts.facts import IDENTIFIER_PATTERN

__all__ = ["FieldSpec", "compile_path", "extract", "simple_steps"]


@lru_cache(maxsize=1024)
def compile_path(query: str) -> Any:
    """Compile ``query``; a ``ValueError`` with the library's reason when it is not JSONPath."""
    import jsonpath  # here, not at the top: see the module docstring

    try:
        return jsonpath.compile(query)
    except jsonpath.JSONPathError as exc:
        reason = str(exc).splitlines()[0]
        raise ValueError(f"not a valid JSONPath ({reason})") from None


#: A ``.name`` step's name: the shared identifier rule, without its anchors.
_NAME = IDENTIFIER_PATTERN.removeprefix("^").removesuffix("$")
_SIMPLE = re.compile(rf"^\$(?:\.{_NAME}|\[[0-9]{{1,9}}\])+$")
_STEP = re.compile(rf"\.({_NAME})|\[([0-9]+)\]")
_FALLBACK = object()


def simple_steps(query: str) -> tuple[str | int, ...] | None:
    """The steps of a plain ``$.name[0].name`` path, or None when the library is needed."""
    if not _SIMPLE.match(query):
        return None
    return tuple(name if name else int(index) for name, index in _STEP.findall(query))


def _walk(steps: tuple[str | int, ...], document: Any) -> Any:
    node = document
    for step in steps:
        if isinstance(step, str):
            if type(node) is not dict:
                return _FALLBACK
            if step not in node:
                return None
            node = node[step]
        else:
            if type(node) is not list:
                return _FALLBACK
            if step >= len(node):
                return None
            node = node[step]
    return (node,)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One JSON Event field of a workflow."""

    name: str
    jsonpath: str
    required: bool = False
    _compiled: Any = field(default=None, compare=False, repr=False)
    _steps: tuple[str | int, ...] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        steps = simple_steps(self.jsonpath)
        object.__setattr__(self, "_steps", steps)
        if steps is None:  # checked now: a path that is not JSONPath fails when it is saved
            object.__setattr__(self, "_compiled", compile_path(self.jsonpath))

    def first_match(self, document: Any) -> tuple[bool, Any]:
        """``(True, value)`` for the first match in ``document``; ``(False, None)`` for none."""
        if self._steps is not None:
            found = _walk(self._steps, document)
            if found is None:
                return False, None
            if found is not _FALLBACK:
                return True, found[0]
        if isinstance(document, str):  # a body that is one JSON string (JSON encoded twice)
            # python-jsonpath would parse it as JSON and search inside; a JSONPath query selects
            # nothing in a string (RFC 9535), so only the root itself, ``$``, matches it.
            return (True, document) if self.jsonpath.strip() == "$" else (False, None)
        import jsonpath  # the library's way, the rare one: imported here (see the module's doc)

        compiled = self._compiled if self._compiled is not None else compile_path(self.jsonpath)
        try:
            match = compiled.match(document)
        except (jsonpath.JSONPathError, TypeError, ValueError, RecursionError):
            return False, None
        if match is None:
            return False, None
        return True, match.obj

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "jsonpath": self.jsonpath, "required": self.required}


def extract(fields: Sequence[FieldSpec], document: Any) -> tuple[dict[str, Any], str | None]:
    """The run's ``fields`` (first match per field, unmatched ones left out) and its error.

    The error names every required field that matched nothing, or whose first match is ``null``
    or ``""``, with its JSONPath. Treating a null or empty value as missing is an assumption:
    Qualtrics documents no such rule, but a workflow task that needs the value (an email to send
    a survey to) finds nothing usable in it, so the mock fails the run where it would fail live.
    """
    values: dict[str, Any] = {}
    missing: list[str] = []
    for spec in fields:
        found, value = spec.first_match(document)
        if found:
            values[spec.name] = value
        if spec.required:
            if not found:
                missing.append(f"required field {spec.name!r} ({spec.jsonpath}) matched nothing")
            elif value is None or value == "":
                empty = "null" if value is None else 'an empty string ("")'
                missing.append(f"required field {spec.name!r} ({spec.jsonpath}) is {empty}")
    return values, ("; ".join(missing) or None)
