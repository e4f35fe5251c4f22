"""What the store writes: an accepted event on its way to becoming a run, and a journal row.

A run is finished (fields extracted, status decided) by the store's writer when its delay has
passed; the payload is kept raw, redacted (every scalar leaf replaced) or not at all, as the mock's
``PAYLOAD_STORAGE`` says, so a team that asks for no payloads keeps none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from contracts.facts import RUN_STATUSES

from . import exactjson
from .jsonpath_fields import FieldSpec, extract

__all__ = ["EVENT_KEYS", "FINISHED", "EventRow", "Outcome", "PendingRun", "iso", "redact"]

#: A journal entry's keys as the admin API shows them (``GET /__admin/events``), in column order:
#: the store builds entries with them and the OpenAPI document requires them.
EVENT_KEYS: tuple[str, ...] = (
    "requestId",
    "received_at",
    "workflow_id",
    "status_code",
    "outcome",
    "idempotency_key",
)

#: The statuses of a run that has finished.
FINISHED = RUN_STATUSES[1:]


def iso(ts: float) -> str:
    """A UTC timestamp as the run-record contract writes it: ``2024-01-31T12:00:00.123456Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def redact(document: Any) -> Any:
    """``document`` with every scalar leaf replaced by ``"[redacted]"``, without recursion."""
    if not isinstance(document, dict | list):
        return "[redacted]"
    root: Any = {} if isinstance(document, dict) else []
    stack: list[tuple[Any, Any]] = [(document, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, value in items:
            if isinstance(value, dict | list):
                child: Any = {} if isinstance(value, dict) else []
                stack.append((value, child))
            else:
                child = "[redacted]"
            if isinstance(target, dict):
                target[key] = child
            else:
                target.append(child)
    return root


@dataclass(frozen=True, slots=True)
class Outcome:
    """A finished run's status, timestamps, extracted fields (JSON text) and error."""

    status: str
    started_at: str
    finished_at: str
    fields: str
    error: str | None


@dataclass(slots=True)
class PendingRun:
    """An accepted event waiting to become a run record."""

    id: str
    workflow_id: str
    request_id: str
    received_ts: float
    body: bytes
    document: Any
    fields: tuple[FieldSpec, ...]
    storage: str  # raw | redacted | none
    idempotency_key: str | None = None
    body_sha256: bytes = b""

    def payload_text(self) -> str | None:
        if self.storage == "none":
            return None
        if self.storage == "redacted":
            return orjson.dumps(redact(self.document)).decode()
        return self.body.decode("utf-8")

    def finish(self, now: float) -> Outcome:
        """Extract the workflow's fields: a required field with no value fails the run."""
        values, error = extract(self.fields, self.document)
        stamp = iso(now)
        return Outcome(
            "Failed" if error else "Succeeded",
            stamp,
            stamp,
            exactjson.dumps(values).decode(),
            error,
        )


@dataclass(frozen=True, slots=True)
class EventRow:
    """One journal entry: every trigger attempt, credentials never included."""

    request_id: str
    received_ts: float
    workflow_id: str | None
    status_code: int | None
    outcome: str
    idempotency_key: str | None
