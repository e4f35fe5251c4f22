"""The words for a failed attempt: from the exception's class and errno, never its text."""

from __future__ import annotations

import errno
import socket
import ssl

import httpx
import pytest

from connector.delivery.why import status_reason, transport_reason


def _caused_by(outer: httpx.TransportError, cause: BaseException) -> httpx.TransportError:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (httpx.ConnectTimeout("https://x/?urlTokenId=secret"), "connect timeout"),
        (httpx.ReadTimeout("https://x/?urlTokenId=secret"), "read timeout"),
        (httpx.WriteTimeout("w"), "write timeout"),
        (httpx.PoolTimeout("p"), "pool timeout"),
        (
            _caused_by(httpx.ConnectError("e"), OSError(errno.ECONNREFUSED, "refused")),
            "connection refused",
        ),
        (
            _caused_by(httpx.ReadError("e"), OSError(errno.ECONNRESET, "reset")),
            "connection reset",
        ),
        (
            _caused_by(httpx.ConnectError("e"), socket.gaierror(-2, "Name or service not known")),
            "host not found",
        ),
        (
            _caused_by(httpx.ConnectError("e"), ssl.SSLError(1, "[SSL] WRONG_VERSION_NUMBER")),
            "TLS: handshake failed",
        ),
        (httpx.RemoteProtocolError("r"), "connection closed without an answer"),
        (httpx.ConnectError("https://x/?urlTokenId=secret"), "cannot connect"),
    ],
)
def test_transport_reasons(exc: httpx.TransportError, words: str) -> None:
    """Each failure in a few words, and never the exception's text (it may hold the URL)."""
    assert transport_reason(exc) == words
    assert "secret" not in transport_reason(exc)


def test_a_certificate_failure_says_so() -> None:
    """An untrusted certificate is named as such, with the host whose certificate it was (not the
    URL: its query is secret) and the option that trusts a private root."""
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_message = "self-signed certificate"
    request = httpx.Request("POST", "https://iad1.qualtrics.com/x?urlTokenId=secret")
    reason = transport_reason(_caused_by(httpx.ConnectError("e", request=request), cause))
    assert reason == (
        "TLS: certificate verify failed (self-signed certificate) for iad1.qualtrics.com; if a "
        "company proxy or a private CA signs it, trust its root with --ca-bundle FILE"
    )
    bare = transport_reason(_caused_by(httpx.ConnectError("e"), cause))
    assert bare.startswith("TLS: certificate verify failed (self-signed certificate); ")


def test_status_reason() -> None:
    assert status_reason(503) == "http 503 Service Unavailable"
    assert status_reason(599) == "http 599"
