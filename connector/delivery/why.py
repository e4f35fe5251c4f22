"""Why an attempt failed, in a few words a person can act on.

A retry loop that only says ``retry-time-exceeded`` after ten minutes hides the cause; this module
turns an httpx transport exception into ``connection refused``, ``read timeout after 15 s``,
``TLS: certificate verify failed`` and the like, and a status code into ``http 503 Service
Unavailable``. The words come from the exception's class and its OS error (errno), never from its
message text, which may carry the URL and so the workflow's ``urlTokenId``.
"""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Final

import httpx

__all__ = ["CONNECTION_REASONS", "status_reason", "transport_reason"]

#: Reasons that mean the destination was never reached (nothing was delivered, nothing is known).
CONNECTION_REASONS: Final = frozenset(
    {"connection refused", "host not found", "network unreachable", "connect timeout"}
)

_ERRNO: Final = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.EHOSTUNREACH: "network unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "connect timeout",
}

_TIMEOUTS: Final = {
    httpx.ConnectTimeout: "connect",
    httpx.ReadTimeout: "read",
    httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "pool",
}


def transport_reason(exc: httpx.TransportError) -> str:
    """``connection refused``, ``read timeout after 15 s``, ``TLS: ...``: no URL, no secret."""
    for kind, phase in _TIMEOUTS.items():
        if isinstance(exc, kind):
            return f"{phase} timeout"
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (
                f"TLS: certificate verify failed ({cause.verify_message}){_of_host(exc)}; "
                "if a company proxy or a private CA signs it, trust its root with --ca-bundle FILE"
            )
        if isinstance(cause, ssl.SSLError):
            reason = getattr(cause, "reason", None) or "handshake failed"
            return f"TLS: {str(reason).lower().replace('_', ' ')}"
        if isinstance(cause, OSError) and cause.errno in _ERRNO:
            return _ERRNO[cause.errno]
        if isinstance(cause, socket.gaierror):
            return "host not found"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection closed without an answer"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    return type(exc).__name__


def _of_host(exc: httpx.TransportError) -> str:
    """`` for HOST``: whose certificate, by host alone (never the URL: its query is secret)."""
    try:
        host = exc.request.url.host
    except RuntimeError:  # an exception raised outside a request carries none
        return ""
    return f" for {host}" if host else ""


def status_reason(status_code: int) -> str:
    """``http 503 Service Unavailable``."""
    return f"http {status_code} {httpx.codes.get_reason_phrase(status_code)}".rstrip()


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
