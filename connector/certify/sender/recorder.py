"""Every trigger request as the mock received it: a WSGI middleware around the mock's app.

The mock's journal keeps no bodies and no headers, and sender certification needs both: which
body arrived when (to match it to an expected event and to time its retries), which kind of
credentials it carried, whether the API token rode in the URL, and what the mock answered
(status, ``Retry-After``, or a dropped connection). The middleware reads the body once, hands the
app an identical copy, and records the answer. It also serializes trigger requests, so that the
fault the scenario posts just before request *n* is taken by request *n* and no other.

Nothing here keeps a secret: the token and the ``urlTokenId`` are compared, never stored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

__all__ = ["Received", "TriggerRecorder"]

#: Trigger paths of both URL shapes start with this.
_TRIGGER_PREFIX = "/inbound-event/"


@dataclass(slots=True)
class Received:
    """One trigger request and the mock's answer to it."""

    number: int  # 1 for the sender's first trigger request
    received: float  # epoch seconds, when the request reached the mock
    body: bytes
    auth: str  # "Basic", "X-API-TOKEN" or "none"
    credentials_ok: bool
    token_in_url: bool
    idempotency_key: str | None
    answered: float = 0.0  # epoch seconds, when the mock had its answer
    status: int | None = None  # what the mock answered (or chose, when the connection dropped)
    retry_after: str | None = None
    dropped: bool = False
    fault: str = ""  # the scenario step that played on this request

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def outcome(self) -> str:
        """``answered 202``, ``dropped before processing`` or ``run recorded, answer lost``."""
        if self.dropped:
            if self.status is not None and 200 <= self.status < 300 and self.status != 204:
                return "run recorded, answer lost (connection dropped)"
            return "connection dropped before processing"
        text = f"answered {self.status}"
        if self.retry_after is not None:
            text += f" (Retry-After: {self.retry_after})"
        return text


class TriggerRecorder:
    """WSGI middleware: records trigger requests, passes everything else through untouched.

    ``before(number)`` runs before request ``number`` reaches the app (the scenario posts its
    fault there) and returns the name of the fault it played, or ``""``.
    """

    def __init__(
        self,
        app: Any,
        *,
        username: str,
        token: str,
        before: Callable[[int], str] | None = None,
    ) -> None:
        self.app = app
        self._username = username
        self._token = token
        self._before = before
        self._lock = threading.Lock()  # one trigger request at a time (see the module doc)
        self._requests: list[Received] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self._requests)} requests)"

    @property
    def requests(self) -> list[Received]:
        """What was received so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    def _credentials(self, environ: dict[str, Any]) -> tuple[str, bool]:
        api_token = environ.get("HTTP_X_API_TOKEN")
        if api_token is not None:
            return "X-API-TOKEN", hmac.compare_digest(api_token.encode(), self._token.encode())
        authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True)
            except (binascii.Error, ValueError):
                return "Basic", False
            expected = f"{self._username}:{self._token}".encode()
            return "Basic", hmac.compare_digest(decoded, expected)
        return ("none" if not authorization else scheme or "none"), False

    def _token_in_url(self, environ: dict[str, Any]) -> bool:
        raw = f"{environ.get('REQUEST_URI', '')}{environ.get('PATH_INFO', '')}?"
        raw += str(environ.get("QUERY_STRING", ""))
        return self._token in raw or self._token in unquote(raw)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if not str(environ.get("PATH_INFO", "")).startswith(_TRIGGER_PREFIX):
            result: Iterable[bytes] = self.app(environ, start_response)
            return result
        length = environ.get("CONTENT_LENGTH") or ""
        stream = environ["wsgi.input"]
        body = stream.read(int(length)) if length.isdigit() else stream.read()
        environ["wsgi.input"] = io.BytesIO(body)
        auth, ok = self._credentials(environ)
        with self._lock:
            record = Received(
                number=len(self._requests) + 1,
                received=time.time(),
                body=body,
                auth=auth,
                credentials_ok=ok,
                token_in_url=self._token_in_url(environ),
                idempotency_key=environ.get("HTTP_IDEMPOTENCY_KEY"),
            )
            self._requests.append(record)

            def recording_start_response(status: str, headers: Any, *args: Any) -> Any:
                record.status = int(status.split(" ", 1)[0])
                record.retry_after = next(
                    (v for k, v in headers if k.lower() == "retry-after"), None
                )
                return start_response(status, headers, *args)

            if self._before is not None:
                record.fault = self._before(record.number)
            try:
                result = self.app(environ, recording_start_response)
            except BaseException:
                record.dropped = True
                raise
            finally:
                record.answered = time.time()
        return result
