"""One answer, reduced to what a sender can act on, and the differences between two of them.

Compared: the status; the error envelope's shape (the JSON body's key paths) and ``errorCode``
(``meta.error.errorCode``); the ``Content-Type`` media type (parameters such as ``charset`` are
not compared: no JSON reader cares); ``WWW-Authenticate`` (its value) and ``Retry-After`` (whether
it is there: its value depends on the moment). Free-text messages are recorded, never compared:
Qualtrics may word a 401 differently tomorrow and a sender must not depend on the words.

Everything kept from a body passes through ``scrub`` first, so a destination that echoes the
token or the ``urlTokenId`` back cannot put it in a record or a report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ..delivery.secrets import scrub

__all__ = ["COMPARED_HEADERS", "Answer", "differences", "read_answer", "summary"]

#: The response headers kept and compared (how: see the module docstring).
COMPARED_HEADERS: Final = ("Retry-After", "WWW-Authenticate")
#: Non-JSON text kept in a record, at most.
MAX_TEXT: Final = 2_000
NOT_JSON: Final = "(not JSON)"
EMPTY: Final = "(empty)"


@dataclass(frozen=True, slots=True)
class Answer:
    """What one request got back (the burst: its last answer, and how many were accepted)."""

    status: int
    content_type: str | None
    headers: Mapping[str, str]
    shape: tuple[str, ...]
    error_code: str | None
    message: str | None
    body: Any = field(repr=False)
    accepted: int | None = None

    @property
    def media_type(self) -> str | None:
        if self.content_type is None:
            return None
        return self.content_type.split(";", 1)[0].strip().lower() or None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "content_type": self.content_type,
            "headers": dict(self.headers),
            "shape": list(self.shape),
            "error_code": self.error_code,
            "message": self.message,
            "body": self.body,
        }
        if self.accepted is not None:
            out["accepted"] = self.accepted
        return out


def _paths(node: Any, prefix: str = "") -> list[str]:
    if isinstance(node, dict):
        out: list[str] = []
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.append(path)
            out.extend(_paths(value, path))
        return out
    if isinstance(node, list):
        return sorted({p for item in node for p in _paths(item, f"{prefix}[]")})
    return []


def _scrubbed(node: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(node, str):
        return scrub(node, secrets)
    if isinstance(node, dict):
        return {scrub(str(k), secrets): _scrubbed(v, secrets) for k, v in node.items()}
    if isinstance(node, list):
        return [_scrubbed(v, secrets) for v in node]
    return node


def _error_part(body: Any, key: str) -> str | None:
    meta = body.get("meta") if isinstance(body, dict) else None
    error = meta.get("error") if isinstance(meta, dict) else None
    value = error.get(key) if isinstance(error, dict) else None
    return value if isinstance(value, str) else None


def read_answer(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    secrets: tuple[str, ...],
    *,
    accepted: int | None = None,
) -> Answer:
    """An :class:`Answer` from a response's parts; every kept string scrubbed of ``secrets``."""
    kept = {name: scrub(headers[name], secrets) for name in COMPARED_HEADERS if headers.get(name)}
    content_type = headers.get("Content-Type")
    document: Any
    shape: tuple[str, ...]
    if not body.strip():
        document, shape = None, (EMPTY,)
    else:
        try:
            document = _scrubbed(json.loads(body), secrets)
            shape = tuple(sorted(set(_paths(document))))
        except (ValueError, RecursionError):
            text = body.decode("utf-8", "replace")[:MAX_TEXT]
            document, shape = scrub(text, secrets), (NOT_JSON,)
    return Answer(
        status=status,
        content_type=scrub(content_type, secrets) if content_type else None,
        headers=kept,
        shape=shape,
        error_code=_error_part(document, "errorCode"),
        message=_error_part(document, "errorMessage"),
        body=document,
        accepted=accepted,
    )


def _shown(value: str | None) -> str:
    return "none" if value is None else repr(value)


def differences(observed: Answer, mock: Answer) -> list[str]:
    """What differs, each as ``what: Qualtrics X, mock Y``; ``[]`` when the answers match."""
    found: list[str] = []
    if observed.status != mock.status:
        found.append(f"status: Qualtrics {observed.status}, mock {mock.status}")
    if observed.shape != mock.shape:
        only_q = sorted(set(observed.shape) - set(mock.shape))
        only_m = sorted(set(mock.shape) - set(observed.shape))
        found.append(
            "envelope: Qualtrics has "
            + (", ".join(only_q) or "nothing more")
            + "; mock has "
            + (", ".join(only_m) or "nothing more")
        )
    if observed.error_code != mock.error_code:
        found.append(
            f"errorCode: Qualtrics {_shown(observed.error_code)}, mock {_shown(mock.error_code)}"
        )
    if observed.media_type != mock.media_type:
        found.append(
            f"Content-Type: Qualtrics {_shown(observed.media_type)}, mock {_shown(mock.media_type)}"
        )
    q_auth, m_auth = observed.headers.get("WWW-Authenticate"), mock.headers.get("WWW-Authenticate")
    if q_auth != m_auth:
        found.append(f"WWW-Authenticate: Qualtrics {_shown(q_auth)}, mock {_shown(m_auth)}")
    q_retry, m_retry = "Retry-After" in observed.headers, "Retry-After" in mock.headers
    if q_retry != m_retry:
        had = {True: "sent", False: "none"}
        found.append(f"Retry-After: Qualtrics {had[q_retry]}, mock {had[m_retry]}")
    return found


def summary(observed: Answer, mock: Answer, found: list[str]) -> str:
    """The probe's line after ``differs:``: both statuses first, then what else differs."""
    rest = [d for d in found if not d.startswith("status:")]
    head = f"Qualtrics {observed.status}, mock {mock.status}"
    return head + (f" ({'; '.join(rest)})" if rest else "")
