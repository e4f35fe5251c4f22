"""What keeps a web page, or a rebound DNS name, from using the mock's admin surface.

A mock on 127.0.0.1 is reachable from every page the developer's browser opens. Three checks,
run before any view, close the ways in. Before them all, a method a route does not declare is
405 with ``Allow`` (what the OpenAPI document promises), not whatever a later check would say.

- **Host allow-list (DNS rebinding).** A page on ``evil.example`` whose name is rebound to
  127.0.0.1 sends ``Host: evil.example``. Without an admin token (the loopback default) a request
  is answered only when its ``Host`` is a loopback address, ``localhost`` (any port) or one of
  ``PUBLIC_HOSTS`` (``qharness mock serve --public-host NAME``); anything else gets 421
  Misdirected Request. With an admin token the token guards the admin API and UI, and
  ``PUBLIC_HOSTS``, when given, restrict ``Host`` the same way. So ``trigger_url``, which is
  built from ``Host``, never names a host that was not checked.
- **Cross-origin writes (CSRF).** A state-changing admin request (POST, PATCH, PUT, DELETE under
  ``/__admin/``) whose ``Origin`` is not the mock's own origin, or whose ``Sec-Fetch-Site`` is
  neither ``same-origin`` nor ``none``, gets 403. Another port on 127.0.0.1 is same-site but
  not same-origin, and is refused.
- **JSON only.** Those requests must say ``Content-Type: application/json`` (415 otherwise), which
  an HTML form cannot send and a cross-origin ``fetch`` cannot send without a CORS preflight the
  mock never approves; a DELETE carries no body (400).

Every answer gets ``X-Content-Type-Options: nosniff``; HTML answers also get a
``Content-Security-Policy`` that allows no script at all and no framing, and
``Referrer-Policy: no-referrer``. Error bodies never carry markup: ``<``, ``>`` and ``&`` inside
them are written as JSON ``\\u`` escapes, which decode to the same text.

The admin token's own lockout (like the trigger's) is kept here too: :func:`admin_lockout`.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.wrappers import Response

from .auth import Lockout
from .config import Settings, settings_of
from .envelope import MockError

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "EVERY_ANSWER",
    "admin_lockout",
    "check_host",
    "host_allowed",
    "init_app",
    "secure_headers",
]

#: No script, no plugins, no framing; styles and images only from the mock itself.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
_WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_SAME_ORIGIN_FETCH = frozenset({"same-origin", "none"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LOCKOUT_KEY = "mock_qualtrics.admin_lockout"


def init_app(app: Flask) -> None:
    """Register the checks and headers on ``app`` (one line in ``create_app``)."""
    app.extensions[_LOCKOUT_KEY] = Lockout(
        settings_of(app).lockout_failures,
        settings_of(app).lockout_window,
        settings_of(app).lockout_seconds,
    )
    app.before_request(_check)
    app.after_request(secure_headers)


def admin_lockout() -> Lockout:
    """Failed admin-token attempts per client, locked out like trigger authentication."""
    lockout: Lockout = current_app.extensions[_LOCKOUT_KEY]
    return lockout


def _hostname(host: str) -> tuple[str, int | None] | None:
    """``("localhost", 8080)`` from a Host header; None when it is not a host."""
    try:
        parts = urlsplit("//" + host)
        name, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not name or parts.username is not None or parts.path or parts.query:
        return None
    return name.rstrip("."), port


def _is_loopback(name: str) -> bool:
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@lru_cache(maxsize=1024)  # every request asks; a client sends the same Host each time
def host_allowed(host: str, *, admin_token: bool, public_hosts: tuple[str, ...]) -> bool:
    """Whether a request with this ``Host`` header is answered (see the module docstring)."""
    parsed = _hostname(host)
    if parsed is None:
        return False
    name = parsed[0]
    if admin_token and not public_hosts:
        return True
    return _is_loopback(name) or name in public_hosts


def _origin(value: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(value)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.rstrip("."), port


def _same_origin(origin: str) -> bool:
    given = _origin(origin)
    own = _origin(f"{request.scheme}://{request.host}")
    return given is not None and given == own


def check_host(host: str, settings: Settings) -> None:
    """Raise the 421 unless a request with this ``Host`` is answered (the trigger's fast path
    calls this too, outside Flask)."""
    public = tuple(h.lower().rstrip(".") for h in settings.public_hosts)
    if not host_allowed(host, admin_token=bool(settings.admin_token), public_hosts=public):
        raise MockError(
            421,
            "This mock does not answer to that Host: use localhost or a loopback address, or"
            " start it with --public-host NAME",
            "MISDIRECTED_REQUEST",
        )


def _check() -> None:
    if isinstance(request.routing_exception, MethodNotAllowed):
        raise request.routing_exception  # 405 with Allow, before Host, Origin or Content-Type
    check_host(request.host, settings_of(current_app))
    if request.method not in _WRITES or not request.path.startswith("/__admin/"):
        return
    origin = request.headers.get("Origin")
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if (origin is not None and not _same_origin(origin)) or (
        fetch_site is not None and fetch_site.lower() not in _SAME_ORIGIN_FETCH
    ):
        raise MockError(
            403,
            "Cross-origin requests may not change the mock: send admin requests from a client,"
            " not from a web page",
            "CROSS_ORIGIN_REFUSED",
        )
    if request.method == "DELETE":
        if request.content_length or "chunked" in request.headers.get("Transfer-Encoding", ""):
            raise MockError(400, "A DELETE takes no body", "BODY_NOT_ALLOWED")
        return
    mime = (request.mimetype or "").lower()
    if mime != "application/json":
        raise MockError(
            415,
            "Admin requests that change the mock must send Content-Type: application/json"
            " (an empty request is {})",
            "UNSUPPORTED_MEDIA_TYPE",
        )


#: The security headers every answer carries (HTML answers get more, in :func:`secure_headers`).
EVERY_ANSWER = (("X-Content-Type-Options", "nosniff"),)


def secure_headers(response: Response) -> Response:
    """Add the security headers to ``response``, and escape markup out of an error body."""
    response.headers.update(EVERY_ANSWER)
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
    elif (
        response.status_code >= 400
        and response.mimetype == "application/json"
        and not response.is_streamed
    ):
        data = response.get_data()
        if b"<" in data or b">" in data or b"&" in data:
            response.set_data(
                data.replace(b"&", b"\\u0026").replace(b"<", b"\\u003c").replace(b">", b"\\u003e")
            )
    return response
