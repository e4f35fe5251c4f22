"""Testing a destination: a few profiles sent once each, answered like Adobe's destination-testing API.

Adobe's Destination SDK lets a partner test a destination with sample profiles and answers with
``results[]`` (an ``aggregationKey`` and the ``httpCalls`` made, request and response) and the
``inputProfiles``. ``probe_destination`` does the same against the activation's workflow: each
call is made once, without the outbox and with a fresh ``Idempotency-Key`` (so a test never
suppresses a later real send), and the token and the ``urlTokenId`` are redacted from everything
it returns. The URL guard and the token are checked before any input is read.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from ..activation import Activation
from ..errors import ContractViolation
from ..redact import redact_url
from ..render import Exclusion, Payload, Renderer
from .auth import QualtricsBasicAuth
from .client import make_client, post_event
from .network import DIRECT, Network
from .secrets import read_token, scrub, secret_values
from .urlguard import check_url
from .why import status_reason

__all__ = ["ProbeResult", "probe_destination"]


@dataclass(slots=True)
class ProbeResult:
    """What a destination test found; ``document()`` is the API-style answer."""

    results: list[dict[str, Any]] = field(default_factory=list)
    input_profiles: list[Any] = field(default_factory=list)
    #: One line per call that did not answer 2xx: where, the status in words, what to do.
    failures: list[str] = field(default_factory=list)
    #: A profile whose payload broke the event contract (nothing was sent for it).
    contract_violations: int = 0

    @property
    def ok(self) -> bool:
        """Something was sent, and every call answered 2xx."""
        return bool(self.results) and not self.failures and not self.contract_violations

    def document(self) -> dict[str, Any]:
        return {"results": self.results, "inputProfiles": self.input_profiles}

    def summary(self) -> str | None:
        """The closing line when the test did not pass cleanly (``None`` when it did, or when
        the only problem was a contract violation, already said on its own line)."""
        if self.failures:
            calls = len(self.results)
            return (
                f"{len(self.failures)} of {calls} call{'' if calls == 1 else 's'} "
                f"failed; first: {self.failures[0]}"
            )
        if not self.results:
            return "no profile was sent (see the lines above)"
        return None


def probe_destination(
    activation: Activation,
    inputs: Iterable[tuple[str, Any]],
    *,
    allow_http_loopback: bool = False,
    network: Network = DIRECT,
    allow_mock_hosts: tuple[str, ...] = (),
    on_note: Callable[[str], None] = lambda _: None,
) -> ProbeResult:
    """Send each ``(label, profile)`` of ``inputs`` once; ``on_note`` hears one line per profile
    not sent or not answered 2xx. Raises ``UrlGuardError`` or ``SecretError`` before reading
    ``inputs``."""
    url = check_url(
        activation.destination.url,
        allow_http_loopback=allow_http_loopback,
        allow_mock_hosts=allow_mock_hosts,
    )
    token = read_token(activation)
    result = ProbeResult()
    numbered = list(inputs)
    result.input_profiles = [profile for _, profile in numbered]
    renderer = Renderer(activation)
    auth = QualtricsBasicAuth(activation.destination.username, token)
    with make_client(auth, network=network, max_connections=1) as client:
        for where, profile in numbered:
            try:
                rendered = renderer.render(profile)
            except ContractViolation as exc:
                result.contract_violations += 1
                on_note(f"{where}: contract-violation: {exc}")
                continue
            if isinstance(rendered, Exclusion):
                on_note(f"{where}: {rendered}")
                continue
            if rendered is None:
                on_note(f"{where}: no change (no activated audience realized or exited)")
                continue
            call = _http_call(client, url, rendered, token)
            code = call["response"]["code"]
            if not 200 <= code < 300:
                result.failures.append(f"{where}: {_call_failure(call, activation)}")
                on_note(result.failures[-1])
            result.results.append(
                {"aggregationKey": _aggregation_key(activation, rendered), "httpCalls": [call]}
            )
    return result


def _call_failure(call: dict[str, Any], activation: Activation) -> str:
    """One line for a call that did not answer 2xx: the status in words and what to do."""
    code = call["response"]["code"]
    if code == 0:
        return f"{call['response']['body']}: is the destination reachable?"
    hint = {
        401: f"wrong user name or API token (check ${activation.destination.api_token_env} "
        f"and destination.username in {activation.source})",
        403: "the token's user does not own this workflow",
        404: "no workflow has this URL's urlTokenId (check destination.url)",
    }.get(code, "see the response body in the output")
    return f"{status_reason(code)}: {hint}"


def _aggregation_key(activation: Activation, payload: Payload) -> dict[str, Any]:
    """Best-effort aggregation, one profile per call: the key names destination and audiences."""
    ups = payload.document["segmentMembership"]["ups"]
    return {
        "destinationName": activation.destination.name,
        "segmentIds": sorted(ups),
        "segmentStatus": sorted({str(m["status"]).upper() for m in ups.values()}),
    }


def _http_call(client: httpx.Client, url: str, payload: Payload, token: str) -> dict[str, Any]:
    """One POST, recorded as Adobe's ``httpCalls[]`` entry with the secrets redacted."""
    key = f"test-{uuid.uuid4()}"
    attempt = post_event(client, url, payload.body, key)
    request = {
        "body": payload.document,
        "headers": {
            "Authorization": "Basic ***",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        },
        "method": "POST",
        "uri": redact_url(url),
    }
    if attempt.status_code is None:
        response: dict[str, Any] = {
            "body": f"no response: {attempt.error}",
            "code": 0,
            "headers": {},
        }
    else:
        text = attempt.body.decode("utf-8", "replace")
        text = scrub(text, secret_values(url, token))
        body: Any
        try:
            body = orjson.loads(text)
        except orjson.JSONDecodeError:
            body = text
        response = {"body": body, "code": attempt.status_code, "headers": dict(attempt.headers)}
    return {"traceId": str(uuid.uuid4()), "request": request, "response": response}
