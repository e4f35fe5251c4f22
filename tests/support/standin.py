"""A stand-in "real Qualtrics" for ``qharness probe``: the mock, with some answers of its own.

It serves the mock app (so everything it does not override is the mock's behaviour) behind a
WSGI layer that counts what arrives and, with ``differ=True``, answers six cases differently
from the mock's defaults, the way a real tenant might:

- a wrong token: 403 ``FORBIDDEN`` (the mock: 401 ``AUTH_INVALID``);
- a Bearer token: 401 as the mock, plus ``WWW-Authenticate: Basic realm="Qualtrics"``;
- malformed Basic: 400 ``MALFORMED_CREDENTIALS``;
- an unknown urlTokenId: 400 with no ``requestId`` in its envelope (the mock: 404);
- an XML body with valid credentials: 202, "ignored" as Qualtrics documents (the mock: 415);
- invalid JSON with valid credentials: 400 as ``text/plain`` (the mock: JSON).

``run_starting`` counts requests that could start a run: valid credentials on the real trigger.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from mock_qualtrics import LiveMock

__all__ = [
    "PASSWORD",
    "URL_TOKEN",
    "USERNAME",
    "StandIn",
    "mock_settings",
    "standin",
]

USERNAME = "probe-user@example.com"
PASSWORD = "Sup3r-s3cret-T0ken-value"  # a test token  # nosec B105
URL_TOKEN = "6a1f3c2e-7b4d-4e8f-9a0b-1c2d3e4f5a6b"
REQUIRED = {"name": "email", "jsonpath": "$.identityMap.Email[0].id", "required": True}


def mock_settings(**extra: Any) -> dict[str, Any]:
    """Mock config with the stand-in's user and workflow (``extra``: more keys)."""
    return {
        "USERS": [{"username": USERNAME, "api_token": PASSWORD}],
        "WORKFLOWS": [
            {
                "id": "SV_standin",
                "name": "probe test copy",
                "owner": USERNAME,
                "url_token_id": URL_TOKEN,
                "fields": [REQUIRED],
            }
        ],
        **extra,
    }


def _envelope(status: str, code: str, message: str, request_id: bool = True) -> bytes:
    meta: dict[str, Any] = {"httpStatus": status}
    if request_id:
        meta["requestId"] = str(uuid.uuid4())
    meta["error"] = {"errorMessage": message, "errorCode": code}
    return json.dumps({"meta": meta}).encode()


@dataclass
class StandIn:
    """Counts, and (``differ``) overrides, what reaches the wrapped mock app."""

    app: Any
    differ: bool
    requests: int = 0
    run_starting: int = 0
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def trigger_url(self) -> str:
        return f"{self.url}/inbound-event/v1/events/json/triggers?urlTokenId={URL_TOKEN}"

    def _answer(self, environ: dict[str, Any], body: bytes) -> tuple[str, list[Any], bytes] | None:
        token = (parse_qs(environ.get("QUERY_STRING", "")).get("urlTokenId") or [""])[0]
        header = environ.get("HTTP_AUTHORIZATION", "")
        valid = header == "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        if valid and token == URL_TOKEN:
            with self._lock:
                self.run_starting += 1
        if not self.differ:
            return None
        json_type = [("Content-Type", "application/json")]
        if token != URL_TOKEN:
            return "400 Bad Request", json_type, _envelope("400 - Bad Request", "BAD_TRIGGER",
                                                            "Invalid trigger", request_id=False)  # fmt: skip
        if header.startswith("Bearer "):
            body401 = _envelope("401 - Unauthorized", "AUTH_INVALID", "Unauthorized")
            return "401 Unauthorized", [*json_type, ("WWW-Authenticate", 'Basic realm="Qualtrics"')], body401  # fmt: skip
        if header.startswith("Basic ") and not valid:
            decoded = base64.b64decode(header[6:]).decode("utf-8", "replace")
            if ":" not in decoded:
                return (
                    "400 Bad Request",
                    json_type,
                    _envelope(
                        "400 - Bad Request", "MALFORMED_CREDENTIALS", "Bad Authorization header"
                    ),
                )
            return "403 Forbidden", json_type, _envelope("403 - Forbidden", "FORBIDDEN", "No")
        if valid and "xml" in environ.get("CONTENT_TYPE", ""):
            accepted = {"result": {}, "meta": {"httpStatus": "202 - Accepted",
                                               "requestId": str(uuid.uuid4())}}  # fmt: skip
            return "202 Accepted", json_type, json.dumps(accepted).encode()
        if valid and len(body) < 1000:
            try:
                json.loads(body)
            except ValueError:
                return "400 Bad Request", [("Content-Type", "text/plain")], b"Bad Request"
        return None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST" and "/triggers" in environ.get("PATH_INFO", ""):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            with self._lock:
                self.requests += 1
            answer = self._answer(environ, body)
            if answer is not None:
                status, headers, data = answer
                start_response(status, [*headers, ("Content-Length", str(len(data)))])
                return [data]
        result: Iterable[bytes] = self.app(environ, start_response)
        return result


@contextmanager
def standin(*, differ: bool, **extra: Any) -> Iterator[StandIn]:
    """A live stand-in on a free 127.0.0.1 port (``extra``: more mock config keys)."""
    live = LiveMock(mock_settings(**extra))
    wrapper = StandIn(live.app.wsgi_app, differ)
    live.app.wsgi_app = wrapper  # type: ignore[method-assign]
    with live:
        wrapper.url = live.url
        yield wrapper
