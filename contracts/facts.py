"""The facts both halves must agree on, typed: read once from ``facts.json`` and the contracts.

The connector and the mock never import each other, yet each must refuse what the other would:
a body over Qualtrics' 100 KB, an eleventh workflow field, a fault the mock cannot play. Each such
fact is written once, in a language-neutral file of this package (``facts.json``, or the contract
that is its natural home: a field's name length in ``workflow-field``, a fault's ranges in
``fault``, the run statuses in ``run-record``), and every copy elsewhere is derived from here.
``tests/rules/test_one_truth.py`` fails when a literal copy appears outside this package.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

from . import load

__all__ = [
    "DELETED_WORKFLOW",
    "IDENTIFIER",
    "IDENTIFIER_PATTERN",
    "LIMITS",
    "RETRY_AFTER",
    "RUN_STATUSES",
    "FaultRanges",
    "Limits",
    "Range",
    "RetryAfterClamp",
    "fault_ranges",
    "raw",
]


@cache
def _facts_text() -> str:
    return resources.files(__package__).joinpath("facts.json").read_text(encoding="utf-8")


def raw() -> dict[str, Any]:
    """A fresh copy of ``facts.json`` (for tools in other languages, the file itself)."""
    facts: dict[str, Any] = json.loads(_facts_text())
    return facts


@dataclass(frozen=True, slots=True)
class Limits:
    """Qualtrics' JSON Event limits, as the mock enforces and the connector checks first."""

    #: 100 KB read as 102,400 bytes of the UTF-8 JSON body as sent: over it, 413.
    body_bytes: int
    #: Fields a workflow defines by hand (more only through event capture).
    fields_per_workflow: int
    #: Nesting a body may have before the mock answers 400 (an assumption, labelled as such).
    json_depth: int
    #: The longest workflow field name the mock takes (``workflow-field``'s ``maxLength``).
    field_name_chars: int


@dataclass(frozen=True, slots=True)
class RetryAfterClamp:
    """A server's ``Retry-After`` is honoured within ``[min, max]`` seconds (1 s to 24 h)."""

    min: int
    max: int


@dataclass(frozen=True, slots=True)
class Range:
    """An inclusive numeric range, as a JSON Schema's ``minimum``/``maximum`` says it."""

    minimum: float
    maximum: float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.minimum <= value <= self.maximum

    def words(self) -> str:
        """``0 to 60000``: how an error message states the range."""
        return f"{self.minimum:g} to {self.maximum:g}"


@dataclass(frozen=True, slots=True)
class FaultRanges:
    """The numeric ranges of a fault's fields, from the ``fault`` contract."""

    by_field: dict[str, Range]

    def __getitem__(self, name: str) -> Range:
        return self.by_field[name]


@cache
def fault_ranges() -> FaultRanges:
    """Every fault field that has a ``minimum`` and ``maximum`` in the ``fault`` contract."""
    properties = load("fault")["properties"]
    return FaultRanges(
        {
            name: Range(spec["minimum"], spec["maximum"])
            for name, spec in properties.items()
            if "minimum" in spec and "maximum" in spec
        }
    )


def _limits() -> Limits:
    limits = raw()["limits"]
    field = load("workflow-field")["properties"]["name"]
    return Limits(
        body_bytes=int(limits["body_bytes"]),
        fields_per_workflow=int(limits["fields_per_workflow"]),
        json_depth=int(limits["json_depth"]),
        field_name_chars=int(field["maxLength"]),
    )


LIMITS: Final = _limits()
RETRY_AFTER: Final = RetryAfterClamp(**raw()["retry_after_seconds"])
#: How Qualtrics' run history names the workflow of a run whose workflow was deleted.
DELETED_WORKFLOW: Final[str] = raw()["deleted_workflow_name"]
#: A run's statuses, in lifecycle order: the ``run-record`` contract's ``status`` enum.
RUN_STATUSES: Final[tuple[str, ...]] = tuple(load("run-record")["properties"]["status"]["enum"])
#: A plain key: a JSONPath ``.name`` step, an environment variable's name.
IDENTIFIER_PATTERN: Final[str] = raw()["identifier_pattern"]
IDENTIFIER: Final = re.compile(IDENTIFIER_PATTERN)
