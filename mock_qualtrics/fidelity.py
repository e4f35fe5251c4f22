"""The mock following a fidelity record: answering each probed case as Qualtrics was seen to.

``qharness probe`` sends one request per behaviour to a real workflow and writes what came back
(``contracts/fidelity-record.schema.json``). Given that record (``create_app`` config
``FIDELITY_RECORD``: ``qharness mock serve --fidelity F``, the config file's ``[fidelity] record``,
the pytest marker's ``fidelity=``), the trigger answers each probed case with the observed status,
headers (``Content-Type``, ``WWW-Authenticate``, ``Retry-After``) and body, a fresh ``requestId``
in place of the observed one; ``GET /__admin/behaviours`` lists those behaviours as ``observed``
with ``observed: {at, host, verdict}``. A case the record has no answer for (a probe that failed,
or was not sent) keeps the mock's own behaviour.

Where an observed answer is not a 2xx, the mock makes no run, whatever it would have done; where
it is a 2xx for a request the mock rejects (a non-JSON body, say), it answers that 2xx and still
makes no run (it has no JSON to run on). The burst probe's count of answers before the first 429
becomes the bucket's size. A record that is not one (not JSON, wrong schema, an unknown behaviour
id, edited after it was written) is a :class:`FidelityError`: one line naming the file.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from flask import Response
from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match
from werkzeug.exceptions import HTTPException

import contracts

from .config import ConfigError

__all__ = [
    "CASES",
    "FidelityError",
    "Observation",
    "ObservedAnswer",
    "Record",
    "auth_case",
    "load_record",
]

log = logging.getLogger(__name__)

#: Every behaviour id a probe may exercise, from the record's contract (one list for both sides).
CASES: tuple[str, ...] = tuple(
    contracts.load("fidelity-record")["definitions"]["behaviour"]["enum"]
)
#: The ``kind`` a fidelity record declares: anything else is some other JSON file.
KIND = "qharness-fidelity-record"
_UUID = re.compile(
    r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
)


class FidelityError(ConfigError):
    """A fidelity record that cannot be followed; the message names the file and the problem."""


class ObservedAnswer(HTTPException):
    """Raised by the trigger to answer with an observed :class:`Response` as it is."""

    def __init__(self, response: Response) -> None:
        super().__init__(response=response)
        self.code = response.status_code


def auth_case(headers: Mapping[str, str] | Any) -> str:
    """Which ``status.unauthorized.*`` case failed credentials belong to (as the probes split them):
    none at all, a scheme other than Basic, Basic that is not ``base64(user:token)``, or
    well-formed credentials that prove no one."""
    if headers.get("X-API-TOKEN") is not None:
        return "status.unauthorized.wrong_token"
    header = headers.get("Authorization")
    if header is None:
        return "status.unauthorized.no_credentials"
    scheme, _, value = str(header).partition(" ")
    if scheme.lower() != "basic":
        return "status.unauthorized.bearer"
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "status.unauthorized.malformed_basic"
    return (
        "status.unauthorized.wrong_token"
        if ":" in decoded
        else "status.unauthorized.malformed_basic"
    )


@dataclass(frozen=True, slots=True)
class Observation:
    """What the real workflow answered one probe."""

    case: str
    status: int
    content_type: str | None
    headers: Mapping[str, str]
    shape: tuple[str, ...]
    body: Any
    accepted: int | None
    verdict: str

    def response(self, request_id: str, retry_after: int | None = None) -> Response:
        """The observed answer again, with ``request_id`` wherever a ``requestId`` was, and the
        mock's own ``Retry-After`` (when it computed one) where the observed answer had one."""
        if self.shape == ("(empty)",) or self.body is None:
            data = b""
        elif self.shape == ("(not JSON)",):
            data = str(self.body).encode("utf-8")
        else:
            data = orjson.dumps(_with_request_id(self.body, request_id))
        response = Response(data, status=self.status)
        response.headers.pop("Content-Type", None)
        if self.content_type is not None:
            response.headers["Content-Type"] = self.content_type
        for name, value in self.headers.items():
            if name == "Retry-After" and retry_after is not None:
                value = str(retry_after)
            response.headers[name] = value
        return response


def _with_request_id(body: Any, request_id: str) -> Any:
    if isinstance(body, dict):
        return {
            key: request_id
            if key == "requestId" and isinstance(value, str) and _UUID.match(value)
            else _with_request_id(value, request_id)
            for key, value in body.items()
        }
    if isinstance(body, list):
        return [_with_request_id(value, request_id) for value in body]
    return body


@dataclass(frozen=True, slots=True)
class Record:
    """A loaded, checked fidelity record."""

    path: str
    recorded_at: datetime
    recorded_at_text: str
    host: str
    observations: Mapping[str, Observation]

    def get(self, case: str) -> Observation | None:
        return self.observations.get(case)

    def age_days(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.recorded_at).total_seconds() / 86_400

    def stale_warning(self, max_age_days: int, now: datetime | None = None) -> str | None:
        """One line when the record is older than ``max_age_days``, else ``None``."""
        age = self.age_days(now)
        if age <= max_age_days:
            return None
        return (
            f"fidelity record {self.path} is {int(age)} days old (recorded {self.recorded_at_text},"
            f" limit {max_age_days} days): Qualtrics may answer differently now; run"
            " `qharness probe` again"
        )

    def config_overrides(self) -> dict[str, Any]:
        """Settings the record changes: the bucket's size, from the burst probe."""
        burst = self.get("limits.rate_burst")
        if burst is None or burst.accepted is None or burst.accepted < 1:
            return {}
        if burst.status == 429:
            return {"RATE_BURST": burst.accepted}
        return {"RATE_BURST": burst.accepted * 2}  # no 429 in the whole burst: at least that many

    def behaviour_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``rows`` (``GET /__admin/behaviours``) with each probed behaviour marked ``observed``."""
        out = []
        for row in rows:
            seen = self.observations.get(str(row["name"]))
            if seen is not None:
                value: Any = seen.status
                if seen.case == "limits.rate_burst" and seen.accepted is not None:
                    value = f"{seen.accepted} answered before {seen.status}"
                row = {
                    **row,
                    "value": value,
                    "source": "observed",
                    "reference": f"qharness probe of {self.host}, {self.recorded_at_text}",
                    "observed": {
                        "at": self.recorded_at_text,
                        "host": self.host,
                        "verdict": seen.verdict,
                    },
                }
            out.append(row)
        return out


def _fail(path: str, problem: str) -> FidelityError:
    return FidelityError(f"{path}: not a usable fidelity record: {problem}")


def _read(path: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise FidelityError(
            f"{path}: cannot read the fidelity record: {exc.strerror or exc}"
        ) from None
    except UnicodeDecodeError as exc:
        raise _fail(path, f"not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, f"not JSON (line {exc.lineno}, column {exc.colno})") from None


def _check(path: str, document: Any) -> None:
    if not isinstance(document, dict) or document.get("kind") != KIND:
        raise _fail(path, f'its "kind" is not {KIND!r} (is it some other JSON file?)')
    probes = document.get("probes")
    if isinstance(probes, list):
        for index, probe in enumerate(probes):
            case = probe.get("id") if isinstance(probe, dict) else None
            if isinstance(case, str) and case not in CASES:
                raise _fail(path, f"probes[{index}].id: unknown behaviour id {case!r}")
    error = best_match(Draft7Validator(contracts.load("fidelity-record")).iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path)
        raise _fail(path, f"{where}: {error.message[:200]}" if where else error.message[:200])
    if contracts.fidelity_sha256(document) != document["sha256"]:
        raise _fail(path, "it was changed after it was written (its sha256 does not match)")


def load_record(path: str | Path) -> Record:
    """Read, check and load the record at ``path``; :class:`FidelityError` if it is not one."""
    shown = str(path)
    document = _read(shown)
    _check(shown, document)
    at = str(document["recorded_at"])
    recorded = datetime.fromisoformat(at.replace("Z", "+00:00"))
    if recorded.tzinfo is None:  # pragma: no cover - the contract's pattern requires an offset
        recorded = recorded.replace(tzinfo=UTC)
    observations: dict[str, Observation] = {}
    for probe in document["probes"]:
        seen = probe["observed"]
        if seen is None or probe["verdict"] == "error":
            continue
        observations[probe["id"]] = Observation(
            case=probe["id"],
            status=int(seen["status"]),
            content_type=seen["content_type"],
            headers=dict(seen["headers"]),
            shape=tuple(seen["shape"]),
            body=seen["body"],
            accepted=seen.get("accepted"),
            verdict=probe["verdict"],
        )
    return Record(shown, recorded, at, str(document["host"]), observations)
