"""Qualtrics' v3 response envelope, for every answer the mock gives, errors included.

Success: ``{"result": {...}, "meta": {"httpStatus": "202 - Accepted", "requestId": "<uuid4>"}}``;
error: ``{"meta": {"httpStatus": "401 - Unauthorized", "error": {"errorMessage", "errorCode"}}}``.
Errors are raised as :class:`MockError` (an ``HTTPException``) and rendered by the one error
handler in :mod:`mock_qualtrics.app`, so nothing else ever formats an error body.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
from flask import Response
from waitress.channel import ClientDisconnected
from werkzeug.exceptions import HTTPException

__all__ = ["ConnectionDropped", "MockError", "envelope", "http_status", "json_response"]


class ConnectionDropped(ClientDisconnected):  # type: ignore[misc]
    """Raised by the drop middleware: waitress then closes the socket without writing anything."""


def http_status(code: int) -> str:
    """``"401 - Unauthorized"``."""
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:
        phrase = "Unknown"
    return f"{code} - {phrase}"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status=status, headers=headers, mimetype="application/json")


def envelope(
    status: int,
    *,
    request_id: str | None = None,
    result: Any = None,
    message: str = "",
    code: str = "",
) -> dict[str, Any]:
    meta: dict[str, Any] = {"httpStatus": http_status(status)}
    if request_id is not None:
        meta["requestId"] = request_id
    if status >= 400:
        meta["error"] = {"errorMessage": message, "errorCode": code}
        return {"meta": meta}
    return {"result": {} if result is None else result, "meta": meta}


class MockError(HTTPException):
    """An error answer: status, message, error code and extra headers such as Retry-After."""

    def __init__(
        self,
        status: int,
        message: str,
        error_code: str,
        *,
        request_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = status
        self.description = message
        self.error_code = error_code
        self.request_id = request_id
        self.extra_headers = headers or {}
