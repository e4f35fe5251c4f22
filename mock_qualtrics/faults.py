"""Fault injection: the next N trigger requests (or a seeded share of them) misbehave.

Faults are kept in the order they were posted; the first one that applies to a request (its
``workflow_id``, if any, matches and its seeded coin says yes) is used and its ``count`` goes down.
A fault with a ``status`` answers with it (and ``Retry-After``), and the request leaves no run and
no Idempotency-Key; without a status it only delays and/or drops the connection, and the request is
otherwise handled normally.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from .workflows import ValidationError

__all__ = ["Fault", "FaultPlan", "parse_fault"]

_ids = count(1)


@dataclass(slots=True)
class Fault:
    """One posted fault."""

    id: int
    status: int | None = None
    retry_after: int | None = None
    delay_ms: int = 0
    drop_connection: bool = False
    count: int | None = 1  # None: unlimited
    probability: float | None = None
    seed: int | None = None
    workflow_id: str | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "retry_after": self.retry_after,
            "delay_ms": self.delay_ms,
            "drop_connection": self.drop_connection,
            "count": self.count,
            "probability": self.probability,
            "seed": self.seed,
            "workflow_id": self.workflow_id,
        }


def _int(data: Mapping[str, Any], key: str, low: int, high: int) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationError(f"{key}: must be an integer from {low} to {high}, got {value!r}")
    return value


def parse_fault(data: Any) -> Fault:
    """Validate a ``POST /__admin/faults`` body."""
    if not isinstance(data, Mapping):
        raise ValidationError("body: must be a JSON object")
    known = {
        "status",
        "retry_after",
        "delay_ms",
        "drop_connection",
        "count",
        "probability",
        "seed",
        "workflow_id",
    }
    unknown = set(data) - known
    if unknown:
        raise ValidationError(f"{sorted(unknown)[0]}: unknown key")
    status = _int(data, "status", 200, 599)
    retry_after = _int(data, "retry_after", 0, 86_400)
    delay_ms = _int(data, "delay_ms", 0, 60_000) or 0
    drop = data.get("drop_connection", False)
    if not isinstance(drop, bool):
        raise ValidationError("drop_connection: must be true or false")
    probability = data.get("probability")
    if probability is not None and (
        isinstance(probability, bool)
        or not isinstance(probability, int | float)
        or not 0 <= probability <= 1
    ):
        raise ValidationError(f"probability: must be a number from 0 to 1, got {probability!r}")
    seed = _int(data, "seed", -(2**63), 2**63 - 1)
    n = _int(data, "count", 1, 1_000_000)
    if n is None and probability is None:
        n = 1
    workflow_id = data.get("workflow_id")
    if workflow_id is not None and (not isinstance(workflow_id, str) or not workflow_id):
        raise ValidationError("workflow_id: must be a non-empty string")
    if status is None and not delay_ms and not drop:
        raise ValidationError("status: a fault needs status, delay_ms or drop_connection")
    return Fault(
        id=next(_ids),
        status=status,
        retry_after=retry_after,
        delay_ms=delay_ms,
        drop_connection=drop,
        count=n,
        probability=None if probability is None else float(probability),
        seed=seed,
        workflow_id=workflow_id,
        _rng=random.Random(seed),  # noqa: S311 - reproducible fault timing, not security  # nosec B311
    )


class FaultPlan:
    """The posted faults, in order; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def take(self, workflow_id: str | None) -> Fault | None:
        """The fault that applies to a trigger request for ``workflow_id``, consumed; or None."""
        with self._lock:
            if not self._faults:
                return None
            for fault in self._faults:
                if fault.workflow_id is not None and fault.workflow_id != workflow_id:
                    continue
                if fault.probability is not None and fault._rng.random() >= fault.probability:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                return fault
            return None
