"""The fidelity record (``--record``) and the comparison report (``--json``).

The record follows ``contracts/fidelity-record.schema.json`` and is checked against it before it
is written (a record the mock would refuse is a bug of ours, not a file to leave behind). It names
the host and the trigger URL with its ``urlTokenId`` replaced by ``***``, never the token: the
answers kept in it were scrubbed when they were read (:mod:`connector.fidelity.compare`). Its
``sha256`` (:func:`contracts.fidelity_sha256`) lets the mock refuse a record edited by hand.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import contracts

from ..errors import UsageError
from ..redact import redact_url
from ..validate import validator_for
from .run import Outcome

__all__ = ["KIND", "counts", "record_document", "report_document", "write_json"]

#: What a record says it is (the mock refuses any other ``kind``).
KIND = "qharness-fidelity-record"


def counts(outcomes: Sequence[Outcome]) -> dict[str, int]:
    """Probes by verdict."""
    out = {"matches": 0, "differs": 0, "error": 0}
    for outcome in outcomes:
        out[outcome.verdict] += 1
    return out


def _probe(outcome: Outcome, have_credentials: bool) -> dict[str, Any]:
    probe = outcome.probe
    return {
        "id": probe.id,
        "group": probe.group,
        "request": {
            "method": "POST",
            "target": probe.target,
            "header_names": probe.header_names(have_credentials),
            "body_kind": probe.body_kind,
            "body_bytes": len(probe.body),
            "count": probe.count,
        },
        "observed": outcome.observed.to_json() if outcome.observed else None,
        "mock": outcome.mock.to_json() if outcome.mock else None,
        "verdict": outcome.verdict,
        "differences": list(outcome.differences),
        "error": outcome.error,
    }


def record_document(
    outcomes: Sequence[Outcome],
    *,
    url: str,
    harness_version: str,
    credentials: bool,
    allow_runs: bool,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The fidelity record of one probe run, with its ``sha256``; checked against the contract."""
    when = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    document: dict[str, Any] = {
        "kind": KIND,
        "recorded_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "target": redact_url(url),
        "host": urlsplit(url).netloc,
        "harness_version": harness_version,
        "allow_runs": allow_runs,
        "credentials": credentials,
        "probes": [_probe(o, credentials) for o in outcomes],
    }
    document["sha256"] = contracts.fidelity_sha256(document)
    errors = validator_for("fidelity-record").errors(document)
    if errors:  # pragma: no cover - a bug of ours: say which part
        raise AssertionError(f"the fidelity record breaks its contract: {errors[0]}")
    return document


def report_document(record: dict[str, Any]) -> dict[str, Any]:
    """The ``--json`` report: the verdict and counts, beside the record's comparison."""
    by_verdict = {"matches": 0, "differs": 0, "error": 0}
    for probe in record["probes"]:
        by_verdict[probe["verdict"]] += 1
    verdict = "matches" if by_verdict["differs"] == by_verdict["error"] == 0 else "differs"
    return {
        "verdict": verdict,
        "counts": by_verdict,
        "tool_version": record["harness_version"],
        "recorded_at": record["recorded_at"],
        "target": record["target"],
        "probes": [
            {
                "id": p["id"],
                "group": p["group"],
                "verdict": p["verdict"],
                "qualtrics_status": (p["observed"] or {}).get("status"),
                "mock_status": (p["mock"] or {}).get("status"),
                "differences": p["differences"],
                "error": p["error"],
            }
            for p in record["probes"]
        ],
        "contracts": {"fidelity-record": contracts.version("fidelity-record")},
    }


def write_json(path: Path, document: dict[str, Any], what: str) -> None:
    """Write ``document`` to ``path`` (owner-only: it describes a private workflow)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2, ensure_ascii=False)
            out.write("\n")
    except OSError as exc:
        raise UsageError(f"{what} {str(path)!r}: cannot write: {exc.strerror or exc}") from None
