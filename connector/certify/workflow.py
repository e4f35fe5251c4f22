"""The workflow-fields check: every required JSON Event field resolves in every payload sent.

A partner's workflow reads its fields from the payload with JSONPath, as Qualtrics does; a required
field that resolves to nothing fails the run. Fields come from ``[[workflow.fields]]``, or are
derived from the mappings (then none is required). The same JSONPath library as the mock's
(python-jsonpath) decides what resolves.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import jsonpath

from ..activation import Activation, WorkflowField

__all__ = ["describe_field", "required_fields", "unfed", "unresolved"]


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
