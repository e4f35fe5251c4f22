"""The URL guard: the only destinations the connector will send profiles to.

Profiles carry personal data and the request carries the API token, so a typo or a hostile
activation file must not send them anywhere but a Qualtrics data center. A URL passes when it is
``https`` on port 443 to ``{dc}.qualtrics.com`` or ``{brand}.{dc}.qualtrics.com`` (``dc`` such as
``iad1``, ``fra1``, ``gov1``), without userinfo. IP literals never match the host pattern, so they
are refused too. With ``allow_http_loopback`` (the mock), ``http`` or ``https`` to ``127.0.0.1``,
``::1`` or ``localhost`` on any port is also accepted. Messages show the URL through
``redact_url``, so the ``urlTokenId`` never reaches a terminal or a log.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit

from ..errors import UrlGuardError
from ..redact import redact_url

__all__ = ["LOOPBACK_HOSTS", "QUALTRICS_HOST", "check_url"]

#: ``{dc}.qualtrics.com`` or ``{brand}.{dc}.qualtrics.com``; a dc is letters, then digits (iad1).
QUALTRICS_HOST: Final = re.compile(
    r"\A(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)?[a-z]{2,6}[0-9]{1,2}\.qualtrics\.com\Z"
)
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "::1", "localhost"})
#: Anything outside printable, non-space ASCII (or a backslash) makes parsers disagree: refuse it.
_UNSAFE_CHARS: Final = re.compile(r"[^\x21-\x7e]|\\")


def check_url(url: str, *, allow_http_loopback: bool = False) -> str:
    """Return ``url`` (scheme lowercased) if the connector may send to it; else ``UrlGuardError``."""
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
    if allow_http_loopback and host in LOOPBACK_HOSTS and parts.scheme in ("http", "https"):
        return normalized
    if parts.scheme != "https":
        hint = (
            "; plain http is allowed only to 127.0.0.1, ::1 or localhost, "
            "with --allow-http-loopback"
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
