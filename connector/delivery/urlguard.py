"""The URL guard: the only destinations the connector will send profiles to.

Profiles carry personal data and the request carries the API token, so a typo or a hostile
activation file must not send them anywhere but a Qualtrics data center. A URL passes when it is
``https`` on port 443 to ``{dc}.qualtrics.com`` or ``{brand}.{dc}.qualtrics.com`` (``dc`` such as
``iad1``, ``fra1``, ``gov1``), without userinfo. IP literals never match the host pattern, so they
are refused too. With ``allow_http_loopback`` (the mock), ``http`` or ``https`` to ``127.0.0.1``,
``::1`` or ``localhost`` on any port is also accepted. ``allow_mock_hosts`` names further mock
hosts treated the same way, one by one (a CI job's service container, ``qualtrics-mock``): the
guard stays closed for every host not named, and a Qualtrics host can never be named, so that
plain http can never carry a real token to a real data center. Messages show the URL through
``redact_url``, so the ``urlTokenId`` never reaches a terminal or a log.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Final
from urllib.parse import urlsplit

from ..errors import UrlGuardError
from ..redact import redact_url

__all__ = ["LOOPBACK_HOSTS", "QUALTRICS_HOST", "check_mock_host", "check_url"]

#: ``{dc}.qualtrics.com`` or ``{brand}.{dc}.qualtrics.com``; a dc is letters, then digits (iad1).
QUALTRICS_HOST: Final = re.compile(
    r"\A(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)?[a-z]{2,6}[0-9]{1,2}\.qualtrics\.com\Z"
)
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "::1", "localhost"})
#: Anything outside printable, non-space ASCII (or a backslash) makes parsers disagree: refuse it.
_UNSAFE_CHARS: Final = re.compile(r"[^\x21-\x7e]|\\")
#: A mock host name: DNS labels of letters, digits, inner hyphens and underscores (compose and
#: Kubernetes service names), or an IPv4 literal; no port, no wildcard.
_MOCK_HOST: Final = re.compile(
    r"\A[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\Z"
)


def check_mock_host(name: str) -> str:
    """``name`` lowercased if it may be allowed as a plain-http mock host; else ``UrlGuardError``.

    A Qualtrics data-center host is refused: allowing it would let plain http carry the API
    token and personal data over the network to the real service."""
    host = name.strip().lower().rstrip(".")
    if not _MOCK_HOST.match(host):
        raise UrlGuardError(
            f"mock host {name!r} is not a host name (letters, digits, '-', '_' and dots, "
            "such as qualtrics-mock; no scheme, port or wildcard)"
        )
    if host.endswith("qualtrics.com"):
        raise UrlGuardError(
            f"mock host {name!r} is a Qualtrics host: plain http is never allowed to Qualtrics"
        )
    return host


def check_url(
    url: str, *, allow_http_loopback: bool = False, allow_mock_hosts: Collection[str] = ()
) -> str:
    """Return ``url`` (scheme lowercased) if the connector may send to it; else ``UrlGuardError``.

    ``allow_mock_hosts``: names (as :func:`check_mock_host` accepts them) to which ``http`` or
    ``https`` on any port is allowed, as to loopback with ``allow_http_loopback``."""
    shown = redact_url(url)
    if _UNSAFE_CHARS.search(url):
        raise UrlGuardError(
            f"destination URL {shown!r} contains whitespace, control or non-ASCII characters"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # its message quotes the URL, secrets included: say it plainly instead
        raise UrlGuardError(
            f"destination URL {shown!r} cannot be parsed (an invalid host or port)"
        ) from None
    if "@" in parts.netloc:
        raise UrlGuardError(
            f"destination URL {shown!r} carries userinfo; credentials come from the environment"
        )
    if parts.fragment:
        raise UrlGuardError(f"destination URL {shown!r} has a fragment")
    normalized = parts.scheme + url[len(parts.scheme) :]  # "HTTPS://" works, but say it plainly
    mock_hosts = {check_mock_host(name) for name in allow_mock_hosts}
    if parts.scheme in ("http", "https") and (
        (allow_http_loopback and host in LOOPBACK_HOSTS) or host.rstrip(".") in mock_hosts
    ):
        return normalized
    if parts.scheme != "https":
        hint = (
            "; plain http is allowed only to 127.0.0.1, ::1 or localhost, "
            "with --allow-http-loopback, or to a mock host named with --allow-mock-host NAME"
            if parts.scheme == "http"
            else ""
        )
        raise UrlGuardError(f"destination URL {shown!r} must use https{hint}")
    if port not in (None, 443):
        raise UrlGuardError(f"destination URL {shown!r} must use port 443, not {port}")
    if not QUALTRICS_HOST.match(host):
        raise UrlGuardError(
            f"destination host {host!r} is not a Qualtrics data-center host "
            "({dc}.qualtrics.com or {brand}.{dc}.qualtrics.com, dc such as iad1 or fra1)"
        )
    return normalized
