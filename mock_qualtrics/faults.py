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


def parse_fault(data: Mapping[str, Any]) -> Fault:
    """A fault from a ``POST /__admin/faults`` body that ``FaultInput`` has already validated.

    Types and ranges are the OpenAPI document's (:mod:`mock_qualtrics.admin_schema`); only the
    rules across fields are here: a fault needs something to do, and is one-shot by default.
    """
    status = data.get("status")
    delay_ms = int(data.get("delay_ms", 0))
    drop = bool(data.get("drop_connection", False))
    probability = data.get("probability")
    seed = data.get("seed")
    n = data.get("count")
    if n is None and probability is None:
        n = 1  # one shot unless a probability makes it a standing fault
    if status is None and not delay_ms and not drop:
        raise ValidationError("status: a fault needs status, delay_ms or drop_connection")
    return Fault(
        id=next(_ids),
        status=status,
        retry_after=data.get("retry_after"),
        delay_ms=delay_ms,
        drop_connection=drop,
        count=n,
        probability=None if probability is None else float(probability),
        seed=seed,
        workflow_id=data.get("workflow_id"),
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
