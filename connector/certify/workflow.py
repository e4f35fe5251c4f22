"""The workflow-fields check: every required JSON Event field resolves in every payload sent.

A partner's workflow reads its fields from the payload with JSONPath, as Qualtrics does; a required
field that resolves to nothing fails the run. Fields come from ``[[workflow.fields]]``, or are
derived from the mappings (then none is required). The same JSONPath library as the mock's
(python-jsonpath) decides what resolves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

import jsonpath

from ..activation import Activation, WorkflowField

__all__ = [
    "describe_field",
    "field_coverage",
    "identity_fix",
    "required_fields",
    "unfed",
    "unresolved",
]


def required_fields(activation: Activation) -> tuple[WorkflowField, ...]:
    """The activation's required workflow fields (none when the fields are derived)."""
    return tuple(f for f in activation.workflow_fields if f.required)


@cache
def _compiled(path: str) -> Any:
    return jsonpath.compile(path)


def resolves(field: WorkflowField, document: Any) -> bool:
    """Whether ``field``'s JSONPath matches anything in ``document``."""
    return bool(_compiled(field.jsonpath).findall(document))


def unresolved(fields: Sequence[WorkflowField], document: Any) -> list[WorkflowField]:
    """The ``fields`` whose JSONPath matches nothing in ``document``."""
    return [f for f in fields if not resolves(f, document)]


def unfed(fields: Sequence[WorkflowField]) -> list[WorkflowField]:
    """The ``fields`` that no identity or attribute mapping feeds."""
    return [f for f in fields if f.feeds_from is None]


def describe_field(field: WorkflowField) -> str:
    """``order_id ($.order.id): no mapping feeds it`` or ``... fed by attributes: a -> b``."""
    feeder = f"fed by {field.feeds_from}" if field.feeds_from else "no mapping feeds it"
    return f"required field {field.name!r} ({field.jsonpath}): {feeder}"


def identity_fix(field: WorkflowField, activation: Activation) -> str | None:
    """For a required field fed by one of several mapped identities: which profiles lack it,
    and the two fixes. ``None`` for any other field.

    A profile renders when it carries any one mapped namespace, so a field reading one
    namespace (``$.identityMap.Email[0].id``) is absent from profiles that have only another.
    """
    feeder = field.feeds_from or ""
    if not field.required or not feeder.startswith("identities: ") or ";" in feeder:
        return None
    namespace = feeder.removeprefix("identities: ").split(" -> ")[0]
    others = [i.source for i in activation.identities if i.source != namespace]
    if not others:
        return None
    return (
        f"profiles with only {' or '.join(others)} (no {namespace}) render to payloads without "
        f"{field.jsonpath}: a profile needs just one mapped identity. Fix: require a path every "
        f'payload has (jsonpath = "$.identityMap.*[0].id", any mapped identity), or make '
        f"{field.name!r} optional (required = false)"
    )


def field_coverage(activation: Activation, hits: Mapping[str, int]) -> str:
    """``4 of 5 workflow fields received a value; `loyaltyTier` never did (no mapping feeds
    it)``: counted from ``hits`` (field name -> payloads it resolved in), never assumed."""
    fields = activation.workflow_fields
    never = [f for f in fields if not hits.get(f.name)]
    if not never:
        return f"all {len(fields)} workflow fields received a value"
    named = ", ".join(
        f"`{f.name}`" + (" (never fed: no mapping feeds it)" if f.feeds_from is None else "")
        for f in never
    )
    return (
        f"{len(fields) - len(never)} of {len(fields)} workflow fields received a value; "
        f"{named} never did"
    )
