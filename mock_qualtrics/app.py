"""The Flask application factory: ``create_app(config)`` builds one independent mock.

Settings are one typed :class:`~mock_qualtrics.config.Settings`, checked and built once (and
copied into Flask's config by their upper-case names for code outside the mock); the store is
registered with ``init_app``; trigger, admin and UI are one blueprint each. Every error is answered
in the Qualtrics envelope by one ``HTTPException`` handler, and a catch-all handler turns anything
unexpected into a plain 500 envelope, so no response ever carries a stack trace. Debug mode is
forced off.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Request

from . import admin, guard, trigger, ui
from .config import Settings, settings_of
from .envelope import ConnectionDropped, MockError, envelope, json_response
from .fidelity import load_record
from .state import current_state, init_app
from .store import StoreError
from .workflows import ValidationError

__all__ = ["create_app"]

log = logging.getLogger(__name__)


class DropMiddleware:
    """Closes the connection without an answer when a fault asked for it.

    Raising waitress' ``ClientDisconnected`` from the WSGI app makes waitress close the socket
    and write nothing (``HTTPChannel.service``); a test client sees the exception instead.
    """

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        result: Iterable[bytes] = self.wsgi_app(environ, start_response)
        if environ.get(trigger.DROP_FLAG):
            close = getattr(result, "close", None)
            if close is not None:
                close()
            raise ConnectionDropped("fault: connection dropped")
        return result


class TriggerFastPath:
    """Serves ``POST`` on the trigger's paths without Flask's request machinery.

    Why: the trigger is the mock's hot path, and Flask's contexts, URL routing and request
    hooks cost as much CPU as the trigger's own checks (profiled: about a third of a request's
    time in one process). Here a plain Werkzeug ``Request`` (the same parsers Flask uses, so
    query strings, headers and ``Content-Length`` read the same) goes straight to
    :func:`mock_qualtrics.trigger.handle`, with the same Host check, error envelope and security
    headers as every other answer. Every other request (other methods, other paths, a trailing
    slash) goes to Flask unchanged.
    """

    def __init__(self, app: Flask, wsgi_app: Any) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.state = current_state(app)
        self.settings = settings_of(app)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if (
            environ.get("REQUEST_METHOD") != "POST"
            or environ.get("PATH_INFO") not in trigger.TRIGGER_PATHS
        ):
            result: Iterable[bytes] = self.wsgi_app(environ, start_response)
            return result
        req = Request(environ)
        try:
            guard.check_host(req.host, self.settings)
            answer = trigger.handle(self.state, req)
            if isinstance(answer, trigger.Accepted):  # the plain 202: its headers are final
                return answer(environ, start_response)
            response = answer
        except HTTPException as exc:
            response = _handle_http(exc)
        except StoreError as exc:
            response = _store_unavailable(exc)
        except Exception as exc:
            log.error("unexpected error while serving POST %s", req.path, exc_info=exc)
            response = _internal_error()
        return guard.secure_headers(response)(environ, start_response)


def _handle_http(exc: HTTPException) -> Response:
    if exc.response is not None:  # an answer a fidelity record observed, as it is
        return exc.response  # type: ignore[return-value]
    status = exc.code or 500
    if isinstance(exc, MockError):
        body = envelope(
            status, request_id=exc.request_id, message=exc.description or "", code=exc.error_code
        )
        return json_response(body, status, exc.extra_headers)
    headers = {}
    if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    code = (exc.name or "error").upper().replace(" ", "_")
    return json_response(
        envelope(status, message=exc.description or exc.name, code=code), status, headers
    )


def _handle_validation(exc: ValidationError) -> Response:
    return json_response(envelope(400, message=str(exc), code="VALIDATION_ERROR"), 400)


def _handle_unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _handle_http(exc)
    if isinstance(exc, StoreError):  # shutting down, or a write failed: not a bug, say so
        return _store_unavailable(exc)
    log.error("unexpected error while serving %s %s", request.method, request.path, exc_info=exc)
    return _internal_error()


def _store_unavailable(exc: StoreError) -> Response:
    body = envelope(503, message=f"The mock's store is unavailable: {exc}", code="UNAVAILABLE")
    return json_response(body, 503, {"Retry-After": "1"})


def _internal_error() -> Response:
    return json_response(
        envelope(500, message="Internal error in the mock", code="INTERNAL_ERROR"), 500
    )


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """A new mock. ``config`` is :class:`~mock_qualtrics.config.Settings`, or upper-case keys over
    :data:`~mock_qualtrics.config.DEFAULTS` (checked: a ``ConfigError`` names the key); ``USERS``
    and ``WORKFLOWS`` are upserted into the store at start."""
    settings = config if isinstance(config, Settings) else Settings.from_mapping(config)
    record = None
    if settings.fidelity_record:
        record = load_record(settings.fidelity_record)  # (its age is the caller's to warn of)
        overrides = record.config_overrides()
        settings = replace(settings, **{key.lower(): value for key, value in overrides.items()})
    app = Flask(__name__)
    app.extensions["mock_qualtrics.settings"] = settings
    app.config.from_mapping(settings.as_config())
    app.config["DEBUG"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.config["MAX_CONTENT_LENGTH"] = None
    app.json.sort_keys = False  # type: ignore[attr-defined]
    state = init_app(app)
    state.fidelity = record
    try:
        state.upsert(settings.users, settings.workflows)
    except BaseException:
        state.store.close()
        raise
    guard.init_app(app)  # Host allow-list, cross-origin and Content-Type checks, headers
    app.register_blueprint(trigger.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(ui.bp)
    app.register_error_handler(ValidationError, _handle_validation)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)
    app.wsgi_app = DropMiddleware(  # type: ignore[method-assign]
        TriggerFastPath(app, app.wsgi_app)
    )
    if settings.trust_proxy:
        # Behind N proxies (an ingress, a TLS terminator), the scheme, host, port and client
        # address are the ones the last N proxies forwarded: trigger URLs, UI links, the Host
        # rule, the same-origin check and the per-client lockouts all see the public ones.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.trust_proxy,
            x_proto=settings.trust_proxy,
            x_host=settings.trust_proxy,
            x_port=settings.trust_proxy,
        )
    return app
