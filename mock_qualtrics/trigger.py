"""The JSON Event trigger: ``POST /inbound-event/v1/events/json/triggers?urlTokenId=...``.

Order of checks (assumed: Qualtrics documents none; each rejection is journalled with its outcome):

1. injected faults (before anything else): ``fault``
2. client locked out after repeated auth failures: 429 ``locked-out``
3. unknown ``urlTokenId`` / ``triggerId``: 404 ``not-found``
4. credentials (if the workflow requires them): 401 ``unauthorized``, 403 ``forbidden``
5. body over the size limit: 413 ``too-large``; not JSON: 415 ``unsupported-media-type``;
   unparsable: 400 ``invalid-json``; nested too deep: 400 ``too-deep``
6. only with the idempotency-keys extension: an Idempotency-Key seen within 24 h gets 202 with
   the first requestId, ``duplicate``
7. calls per user (a leaky bucket), runs per day: 429 ``rate-limited`` with Retry-After
8. disabled workflow: 202 ``disabled`` and no run; otherwise 202 ``accepted`` and a queued run.

Qualtrics documents no deduplication, so by default a repeated Idempotency-Key, or a body repeated
byte for byte, makes a second run like Qualtrics would; the store marks it ``duplicate_of`` the
earlier run so that a test can count duplicates.

A ``urlTokenId`` matches only a workflow's ``urlTokenId``, never its id. The older URL shape
(``/JSON/triggers?...&triggerId=...``) is served by the same view; its ``triggerId`` is looked up
as a ``urlTokenId`` first and then as a workflow id (an assumption: the public sources do not say
what Qualtrics' ``triggerId`` maps to). Every assumption here is listed, with its source, at
``GET /__admin/behaviours`` (:mod:`mock_qualtrics.behaviours`).

Each rejection names the behaviour id it exercises (``case=``); a mock following a fidelity record
(:mod:`mock_qualtrics.fidelity`) answers a case the record observed as observed instead.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any, NoReturn

import orjson
from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Request

from . import exactjson
from .config import Settings
from .envelope import MockError, envelope
from .fidelity import ObservedAnswer, auth_case
from .guard import EVERY_ANSWER
from .ids import new_id
from .jsonpath_fields import extract
from .limits import json_depth_exceeds
from .ops import AcceptRun, Journal
from .records import EventRow, PendingRun
from .state import MockState, current_state
from .store import StoreError

__all__ = ["DROP_FLAG", "TRIGGER_PATHS", "Accepted", "bp", "handle"]

bp = Blueprint("trigger", __name__)

# The 202 envelope, pre-serialized around the requestId (the hot path's answer).
_ACCEPTED = orjson.dumps(envelope(202, request_id="\0")).split(b"\\u0000")


class Accepted:
    """The plain 202, as a WSGI app: the headers a ``Response`` and the security headers would
    give it (:data:`~mock_qualtrics.guard.EVERY_ANSWER`), without building either (about 20 us
    of the hot path's CPU)."""

    __slots__ = ("body",)
    status_code = 202

    def __init__(self, request_id: str) -> None:
        self.body = _ACCEPTED[0] + request_id.encode() + _ACCEPTED[1]

    def __call__(self, environ: object, start_response: Any) -> list[bytes]:
        start_response(
            "202 ACCEPTED",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(self.body))),
                *EVERY_ANSWER,
            ],
        )
        return [self.body]


#: The paths the trigger answers POSTs on (the fast path in :mod:`mock_qualtrics.app` serves them).
TRIGGER_PATHS = frozenset(
    {"/inbound-event/v1/events/json/triggers", "/inbound-event/v1/events/JSON/triggers"}
)

#: WSGI environ key the drop middleware looks for.
DROP_FLAG = "mock_qualtrics.drop_connection"


class _Attempt:
    """One trigger request being judged: journals its outcome exactly once."""

    def __init__(self, state: MockState, workflow_id: str | None, key: str | None) -> None:
        self.state = state
        self.request_id = new_id()
        self.received = time.time()
        self.workflow_id = workflow_id
        self.key = key

    def row(self, status: int | None, outcome: str, request_id: str | None = None) -> EventRow:
        return EventRow(
            request_id or self.request_id,
            self.received,
            self.workflow_id,
            status,
            outcome,
            self.key,
        )

    def journal(self, status: int | None, outcome: str, request_id: str | None = None) -> None:
        """Journal a rejection (not waited for: its answer claims nothing was recorded)."""
        self.state.store.submit(Journal(self.row(status, outcome, request_id)))

    def commit(self, op: AcceptRun | Journal) -> None:
        """Commit ``op`` before a 202 says it happened; 503 if the store cannot."""
        try:
            self.state.store.run(op)
        except StoreError as exc:
            raise MockError(
                503,
                f"The mock could not record this request ({exc}); retry later",
                "STORE_UNAVAILABLE",
                request_id=self.request_id,
                headers={"Retry-After": "1"},
            ) from None

    def reject(
        self,
        status: int,
        outcome: str,
        message: str,
        code: str,
        retry_after: int | None = None,
        *,
        case: str | None = None,
    ) -> NoReturn:
        """Answer ``status``; or, when a fidelity record observed behaviour ``case``, as observed
        (and still no run: the mock rejected the request)."""
        self.observed(case, outcome, retry_after)
        self.journal(status, outcome)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        raise MockError(status, message, code, request_id=self.request_id, headers=headers)

    def observed(self, case: str | None, outcome: str, retry_after: int | None = None) -> None:
        """Raise the observed answer for ``case`` if the mock follows a record that has one."""
        record = self.state.fidelity
        seen = record.get(case) if record is not None and case is not None else None
        if seen is not None:
            self.journal(seen.status, outcome)
            raise ObservedAnswer(seen.response(self.request_id, retry_after))

    def accepted(
        self, request_id: str | None = None, case: str = "response.envelope"
    ) -> Response | Accepted:
        """The 202 (a run, if any, is committed), or the answer observed for ``case``."""
        record = self.state.fidelity
        seen = record.get(case) if record is not None else None
        if seen is not None and 200 <= seen.status < 300:
            return seen.response(request_id or self.request_id)
        return Accepted(request_id or self.request_id)


@bp.post("/inbound-event/v1/events/<any(json, JSON):shape>/triggers")
def trigger(shape: str) -> ResponseReturnValue:
    """The route (405s, ``url_for``); POSTs are normally served by the app's fast path."""
    return handle(current_state(), request)  # Flask answers a WSGI app (``Accepted``) as one


def handle(state: MockState, request: Request) -> Response | Accepted:
    """Judge one trigger POST (the checks in the module docstring, in order); its 202, or raise
    :class:`MockError`. ``request`` is a plain Werkzeug request: no Flask context is needed."""
    settings = state.settings
    url_token = request.args.get("urlTokenId")
    token = url_token or request.args.get("triggerId")
    workflow = state.resolve_trigger(token)
    if workflow is not None and url_token and workflow.url_token_id != url_token.lower():
        workflow = None  # a workflow id is no urlTokenId: only the older triggerId may name one
    key = request.headers.get("Idempotency-Key") or None
    if key is not None:
        key = key[:255]
    attempt = _Attempt(state, workflow.id if workflow else None, key)

    fault = state.faults.take(attempt.workflow_id)
    if fault is not None:
        if fault.delay_ms:
            time.sleep(fault.delay_ms / 1000)
        if fault.drop_connection:
            request.environ[DROP_FLAG] = True
        if fault.status is not None:
            if fault.drop_connection:
                attempt.journal(None, "fault")
                return Response(status=204)
            attempt.reject(
                fault.status, "fault", "Injected fault", "MOCK_INJECTED_FAULT", fault.retry_after
            )

    client = request.remote_addr or "unknown"
    locked = state.lockout.locked_for(client)
    if locked:
        attempt.reject(
            429,
            "locked-out",
            "Too many failed authentications from this client",
            "AUTH_LOCKED_OUT",
            max(1, math.ceil(locked)),  # whole seconds, rounded up: then it is unlocked
        )
    if workflow is None:
        attempt.reject(
            404,
            "not-found",
            "No workflow has this trigger URL",
            "NOT_FOUND",
            case="status.not_found",
        )

    user_key = f"owner:{workflow.owner}"
    if workflow.auth_required:
        user, why = state.users.authenticate(request.headers)
        if user is None:
            state.lockout.record_failure(client)
            attempt.reject(
                401,
                "unauthorized",
                f"Unauthorized: {why}",
                "AUTH_INVALID",
                case=auth_case(request.headers),
            )
        if user.username != workflow.owner:
            attempt.reject(
                403,
                "forbidden",
                "The API token's user does not own this workflow",
                "AUTH_FORBIDDEN",
            )
        user_key = user.username

    document = _read_json(attempt, settings, request)
    answer_case = "response.envelope"
    if (
        state.fidelity is not None
        and state.fidelity.get("runs.required_field_missing")
        and extract(workflow.fields, document[0])[1] is not None
    ):
        answer_case = "runs.required_field_missing"
        seen = state.fidelity.get(answer_case)
        if seen is not None and not 200 <= seen.status < 300:
            attempt.observed(answer_case, "required-field-missing")

    now = time.time()
    keys = state.keys  # None unless the idempotency-keys extension is on
    if keys is not None and key is not None:
        first = keys.lookup(workflow.id, key, now)
        if first is not None:
            attempt.commit(Journal(attempt.row(202, "duplicate", first)))
            return attempt.accepted(first)
    wait = state.rate.acquire(user_key)
    if wait:
        attempt.reject(
            429,
            "rate-limited",
            _rate_message(settings),
            "RATE_LIMITED",
            wait,
            case="limits.rate_burst",
        )
    if not workflow.enabled:
        attempt.commit(Journal(attempt.row(202, "disabled")))
        return attempt.accepted(case=answer_case)
    wait = state.daily.acquire()
    if wait:
        attempt.reject(429, "rate-limited", "Daily workflow run limit reached", "DAILY_LIMIT", wait)
    if keys is not None and key is not None:
        first = keys.claim(workflow.id, key, attempt.request_id, now)
        if first is not None:
            attempt.commit(Journal(attempt.row(202, "duplicate", first)))
            return attempt.accepted(first)

    run = PendingRun(
        id=new_id(),
        workflow_id=workflow.id,
        request_id=attempt.request_id,
        received_ts=attempt.received,
        body=document[1],
        document=document[0],
        fields=workflow.fields,
        storage=settings.payload_storage,
        idempotency_key=key,
        body_sha256=hashlib.sha256(document[1]).digest(),
    )
    try:
        attempt.commit(
            AcceptRun(attempt.row(202, "accepted"), run, attempt.received + settings.run_delay)
        )
    except MockError:
        if keys is not None and key is not None:
            keys.release(workflow.id, key, attempt.request_id)
        raise
    return attempt.accepted(case=answer_case)  # only now: the run and its row are committed


def _rate_message(settings: Settings) -> str:
    """The 429 message, with the numbers this mock is configured with."""
    limit, window, burst = settings.rate_limit, settings.rate_window, settings.rate_burst
    return (
        f"Too many requests: at most {limit:,} calls per {window:g} s per user"
        f" (a leaky bucket of {burst:,} calls draining at {limit / window:g}/s)"
    )


def _too_large(attempt: _Attempt, limit: int) -> NoReturn:
    message = f"Payload exceeds {limit} bytes"
    attempt.reject(413, "too-large", message, "PAYLOAD_TOO_LARGE", case="status.too_large")


def _read_json(attempt: _Attempt, settings: Settings, request: Request) -> tuple[Any, bytes]:
    """The parsed body and its bytes, or a rejection (413, 415, 400).

    The bytes are what a run stores as its payload; the parsed document (numbers kept as their
    text, see :mod:`mock_qualtrics.exactjson`) is what its fields are extracted from.
    """
    limit = settings.max_body_bytes
    length = request.content_length
    if length is not None and length > limit:
        _too_large(attempt, limit)
    # Werkzeug's is_json: application/json or application/<x>+json, parameters such as charset
    # allowed, any case.
    if not request.is_json:
        attempt.reject(
            415,
            "unsupported-media-type",
            "Content-Type must be application/json",
            "UNSUPPORTED_MEDIA_TYPE",
            case="status.unsupported_media_type",
        )
    # waitress and the test client hand over the whole (de-chunked) body; read at most limit + 1.
    body = request.environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        _too_large(attempt, limit)
    depth = settings.max_json_depth
    if json_depth_exceeds(body, depth):
        attempt.reject(
            400,
            "too-deep",
            f"JSON nested deeper than {depth} levels",
            "JSON_TOO_DEEP",
            case="limits.json_depth",
        )
    try:
        document = exactjson.loads(body)  # any valid JSON, numbers kept exactly as sent
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        attempt.reject(
            400,
            "invalid-json",
            "The body is not valid JSON",
            "INVALID_JSON",
            case="status.invalid_json",
        )
    return document, body
