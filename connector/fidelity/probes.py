"""The fixed list of probes: one request each, one behaviour id of ``GET /__admin/behaviours`` each.

Two groups, because a probe must never send a survey. ``no-run`` probes cannot start a run on a
workflow that requires authentication: they fail authentication (none, a wrong token, malformed
Basic, a Bearer token) or name a ``urlTokenId`` no workflow has. ``may-run`` probes carry valid
credentials to the real trigger (a body over the size limit, not JSON, invalid JSON, too deep, a
valid payload, one missing a required field, a bounded burst); Qualtrics may start a run for any
of them (its documentation says an XML body "will be ignored", not that it is refused), so they
are sent only with ``--allow-runs`` and only with credentials.

The list is fixed and every probe bounded: one request each, the burst at most :data:`BURST_CAP`
requests and stopped at the first 429. The limits a probe must cross (body bytes, JSON depth, the
bucket's size) are the mock's, passed in as :class:`Limits`, so a probe always crosses the limit
the mock it is compared with applies.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from typing import Final, Literal

from contracts.facts import LIMITS

__all__ = ["BURST_CAP", "Limits", "Probe", "plan"]

Group = Literal["no-run", "may-run"]
Credentials = Literal["none", "wrong-token", "malformed-basic", "bearer", "valid"]

#: The most requests the burst probe sends (it stops at the first 429).
BURST_CAP: Final = 100
#: The JSON Event field the embedded mock's workflow requires (the valid payload has it).
REQUIRED_FIELD: Final = {"name": "email", "jsonpath": "$.identityMap.Email[0].id", "required": True}

_EVENT: Final = (
    b'{"identityMap":{"Email":[{"id":"qharness-probe@example.com"}]},'
    b'"segmentMembership":{"ups":{"qharness-probe":'
    b'{"lastQualificationTime":"2026-01-01T00:00:00Z","status":"realized"}}}}'
)
_MISSING_FIELD: Final = (
    b'{"segmentMembership":{"ups":{"qharness-probe":'
    b'{"lastQualificationTime":"2026-01-01T00:00:00Z","status":"realized"}}}}'
)
_JSON: Final = "application/json"


@dataclass(frozen=True, slots=True)
class Limits:
    """The mock's limits a probe crosses (its config: ``MAX_BODY_BYTES`` and so on)."""

    max_body_bytes: int = LIMITS.body_bytes
    json_depth: int = LIMITS.json_depth
    rate_burst: int = 50


@dataclass(frozen=True, slots=True)
class Probe:
    """One request (``count`` > 1 only for the burst) exercising behaviour ``id``."""

    id: str
    group: Group
    what: str
    credentials: Credentials
    body_kind: str
    content_type: str
    body: bytes = field(repr=False)
    unknown_url_token: bool = False
    count: int = 1

    @property
    def target(self) -> str:
        return "unknown-url-token" if self.unknown_url_token else "trigger"

    def header_names(self, have_credentials: bool) -> list[str]:
        """The headers sent besides httpx's own (Host, Content-Length, ...)."""
        names = ["Content-Type", "User-Agent"]
        if self.credentials != "none" and (self.credentials != "valid" or have_credentials):
            names.append("Authorization")
        return sorted(names)

    def describe(self) -> str:
        """One line for the plan: what is sent, never a secret."""
        times = f"{self.count} x " if self.count > 1 else ""
        where = "an unknown urlTokenId" if self.unknown_url_token else "the trigger"
        return (
            f"{times}POST {where}, {_CREDENTIALS_SHOWN[self.credentials]}, "
            f"Content-Type: {self.content_type}, {self.body_kind} body ({len(self.body):,} bytes)"
        )

    def authorization(self, username: str | None) -> str | None:
        """The ``Authorization`` header of a credentials-failing probe (``None``: none, or the
        real credentials, which only the auth object builds). Fresh random values each time."""
        junk = secrets.token_hex(16)
        if self.credentials == "wrong-token":
            pair = f"{username or 'qharness-probe'}:{junk}".encode()
            return "Basic " + base64.b64encode(pair).decode("ascii")
        if self.credentials == "malformed-basic":
            return "Basic " + base64.b64encode(junk.encode()).decode("ascii")  # no colon
        if self.credentials == "bearer":
            return f"Bearer {junk}"
        return None


_CREDENTIALS_SHOWN: Final[dict[Credentials, str]] = {
    "none": "no credentials",
    "wrong-token": "Basic with a wrong token",
    "malformed-basic": "Basic that is not user:token",
    "bearer": "a Bearer token",
    "valid": "your credentials",
}


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _large(limit: int) -> bytes:
    pad = limit + 1 - len(b'{"qharnessProbe":""}')
    return b'{"qharnessProbe":"' + b"x" * pad + b'"}'


def plan(limits: Limits, *, credentials: bool, allow_runs: bool) -> list[Probe]:
    """The probes to send, in order: ``no-run`` first, the burst last. Without credentials only
    the probes that need none; ``may-run`` ones only with ``allow_runs`` (and credentials)."""
    own: Credentials = "valid" if credentials else "none"
    probes = [
        Probe(
            "status.unauthorized.no_credentials", "no-run", "no credentials", "none", "json",
            _JSON, _EVENT,
        ),
        Probe(
            "status.unauthorized.wrong_token", "no-run", "a wrong token", "wrong-token", "json",
            _JSON, _EVENT,
        ),
        Probe(
            "status.unauthorized.malformed_basic", "no-run", "malformed Basic", "malformed-basic",
            "json", _JSON, _EVENT,
        ),
        Probe(
            "status.unauthorized.bearer", "no-run", "a Bearer token", "bearer", "json", _JSON,
            _EVENT,
        ),
        Probe(
            "status.not_found", "no-run", "an unknown urlTokenId", own, "json", _JSON, _EVENT,
            unknown_url_token=True,
        ),
    ]  # fmt: skip
    if not (credentials and allow_runs):
        return probes
    burst = min(BURST_CAP, 2 * limits.rate_burst)
    return [
        *probes,
        Probe(
            "status.too_large", "may-run", "a body over the size limit", "valid", "large-json",
            _JSON, _large(limits.max_body_bytes),
        ),
        Probe(
            "status.unsupported_media_type", "may-run", "a body that is not JSON", "valid", "xml",
            "application/xml", b'<?xml version="1.0"?><qharnessProbe/>',
        ),
        Probe(
            "status.invalid_json", "may-run", "invalid JSON", "valid", "invalid-json", _JSON,
            b'{"qharnessProbe": ',
        ),
        Probe(
            "limits.json_depth", "may-run", "JSON nested too deep", "valid", "deep-json", _JSON,
            _deep(limits.json_depth + 1),
        ),
        Probe("response.envelope", "may-run", "a valid payload", "valid", "json", _JSON, _EVENT),
        Probe(
            "runs.required_field_missing", "may-run", "a payload missing a required field",
            "valid", "json-missing-field", _JSON, _MISSING_FIELD,
        ),
        Probe(
            "limits.rate_burst", "may-run", f"a burst of up to {burst}, stopped at the first 429",
            "valid", "json", _JSON, _EVENT, count=burst,
        ),
    ]  # fmt: skip
