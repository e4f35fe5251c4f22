"""The trigger's rules, each with its exact answer: status, error code, message, Retry-After, and
the journal row it leaves.

Qualtrics documents the JSON Event's 202 and its error envelope
(https://www.qualtrics.com/support/survey-platform/actions-module/json-events/); the order of the
checks and the error codes are the mock's own, listed at ``GET /__admin/behaviours``. Requests go
through the app's WSGI stack with Flask's test client, or straight to ``trigger.handle`` where a
request needs what the test client cannot send (no ``Content-Length``, no remote address).
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from flask import Flask
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from mock_qualtrics import create_app, trigger
from mock_qualtrics.app import TriggerFastPath
from mock_qualtrics.envelope import MockError
from mock_qualtrics.state import MockState, current_state
from mock_qualtrics.store import StoreError

USER, TOKEN = "owner@example.com", "owner-token"
OTHER, OTHER_TOKEN = "other@example.com", "other-token"
TOKEN_ID = "5f0c6c0e-8a47-4c1b-9d52-0b7c2a61d9e3"
WF = "WF_rules"
PATH = "/inbound-event/v1/events/json/triggers"
URL = f"{PATH}?urlTokenId={TOKEN_ID}"
PAYLOAD = {"identityMap": {"Email": [{"id": "dave@example.com"}]}}
FIELDS = [{"name": "email", "jsonpath": "$.identityMap.Email[0].id", "required": True}]


def config(**overrides: Any) -> dict[str, Any]:
    workflow = {"id": WF, "name": "rules", "owner": USER, "url_token_id": TOKEN_ID,
                "fields": FIELDS, **overrides.pop("workflow", {})}  # fmt: skip
    return {
        "RUN_DELAY": 0,
        "RATE_BURST": 1000,
        "USERS": [
            {"username": USER, "api_token": TOKEN},
            {"username": OTHER, "api_token": OTHER_TOKEN},
        ],
        "WORKFLOWS": [workflow],
        **overrides,
    }


class Mock:
    """One app, its test client and its state."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()
        self.state: MockState = current_state(app)

    def post(
        self,
        body: bytes | None = None,
        *,
        token: str | None = TOKEN,
        headers: dict[str, str] | None = None,
        url: str = URL,
        remote: str = "127.0.0.1",
    ) -> Any:
        sent = {"Content-Type": "application/json", **({"X-API-TOKEN": token} if token else {})}
        return self.client.post(
            url,
            data=orjson.dumps(PAYLOAD) if body is None else body,
            headers={**sent, **(headers or {})},
            environ_base={"REMOTE_ADDR": remote},
        )

    def events(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.client.get("/__admin/events").get_json()["events"]
        return found

    def runs(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.client.get(f"/__admin/workflows/{WF}/runs").get_json()[
            "runs"
        ]
        return found


@pytest.fixture
def make() -> Iterator[Any]:
    """A factory of mocks with other settings; every store is closed at the end."""
    made: list[Mock] = []

    def build(**overrides: Any) -> Mock:
        made.append(Mock(create_app(config(**overrides))))
        return made[-1]

    yield build
    for mock in made:
        mock.state.store.close()


def error(response: Any) -> tuple[int, str, str]:
    meta = response.get_json()["meta"]
    return response.status_code, meta["error"]["errorCode"], meta["error"]["errorMessage"]


def last_event(mock: Mock) -> tuple[int | None, str]:
    event = mock.events()[0]
    return event["status_code"], event["outcome"]


# --- every rejection: status, code, message, journal ---------------------------------------


def test_unknown_url_token_is_404(make: Any) -> None:
    mock = make()
    r = mock.post(url=f"{PATH}?urlTokenId=00000000-0000-0000-0000-000000000000")
    assert error(r) == (404, "NOT_FOUND", "No workflow has this trigger URL")
    assert last_event(mock) == (404, "not-found")


def test_wrong_token_is_401_and_another_users_token_403(make: Any) -> None:
    mock = make()
    assert error(mock.post(token="nope")) == (
        401, "AUTH_INVALID", "Unauthorized: the API token is not valid",
    )  # fmt: skip
    assert last_event(mock) == (401, "unauthorized")
    assert error(mock.post(token=OTHER_TOKEN)) == (
        403, "AUTH_FORBIDDEN", "The API token's user does not own this workflow",
    )  # fmt: skip
    assert last_event(mock) == (403, "forbidden")


def test_media_type_depth_and_syntax_rejections(make: Any) -> None:
    mock = make(MAX_JSON_DEPTH=2)
    r = mock.post(headers={"Content-Type": "text/plain"})
    assert error(r) == (415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json")
    assert last_event(mock) == (415, "unsupported-media-type")
    r = mock.post(b"[[[1]]]")
    assert error(r) == (400, "JSON_TOO_DEEP", "JSON nested deeper than 2 levels")
    assert last_event(mock) == (400, "too-deep")
    assert mock.post(b"[[1]]").status_code == 202  # exactly the limit
    r = mock.post(b'{"a": ')
    assert error(r) == (400, "INVALID_JSON", "The body is not valid JSON")
    assert last_event(mock) == (400, "invalid-json")


def test_content_length_over_the_limit_is_413(make: Any) -> None:
    mock = make(MAX_BODY_BYTES=64)
    assert mock.post(b'"' + b"a" * 62 + b'"').status_code == 202  # 64 bytes: at the limit
    r = mock.post(b'"' + b"a" * 63 + b'"')
    assert error(r) == (413, "PAYLOAD_TOO_LARGE", "Payload exceeds 64 bytes")
    assert last_event(mock) == (413, "too-large")


def environ(body: bytes, *, remote: str | None = "127.0.0.1", **headers: str) -> dict[str, Any]:
    """A trigger POST's WSGI environ without ``Content-Length`` (a chunked upload)."""
    env = EnvironBuilder(
        method="POST", path=PATH, query_string={"urlTokenId": TOKEN_ID},
        headers=Headers({"Content-Type": "application/json", "X-API-TOKEN": TOKEN, **headers}),
    ).get_environ()  # fmt: skip
    env.pop("CONTENT_LENGTH", None)
    env.pop("REMOTE_ADDR", None)
    if remote is not None:
        env["REMOTE_ADDR"] = remote
    env["wsgi.input"] = io.BytesIO(body)
    return env


class Recording(io.BytesIO):
    """A request body that records how many bytes each read asked for."""

    def __init__(self, body: bytes) -> None:
        super().__init__(body)
        self.asked: list[int | None] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.asked.append(size)
        return super().read(size)


@pytest.mark.parametrize(("size", "accepted"), [(64, True), (65, False), (1000, False)])
def test_a_body_without_content_length_is_read_up_to_the_limit_plus_one(
    make: Any, size: int, accepted: bool
) -> None:
    """A chunked body is read at most limit + 1 bytes, and refused (413) past the limit."""
    mock = make(MAX_BODY_BYTES=64)
    env = environ(b'"' + b"a" * (size - 2) + b'"')
    stream = env["wsgi.input"] = Recording(env["wsgi.input"].getvalue())
    if accepted:
        assert trigger.handle(mock.state, Request(env)).status_code == 202
    else:
        with pytest.raises(MockError) as raised:
            trigger.handle(mock.state, Request(env))
        assert (raised.value.code, raised.value.error_code) == (413, "PAYLOAD_TOO_LARGE")
        assert last_event(mock) == (413, "too-large")
    assert stream.asked == [65]


def test_rate_limit_and_daily_limit_are_429_with_retry_after(make: Any) -> None:
    mock = make(RATE_BURST=1, RATE_LIMIT=60, RATE_WINDOW=60)
    assert mock.post().status_code == 202
    r = mock.post()
    assert error(r) == (
        429,
        "RATE_LIMITED",
        "Too many requests: at most 60 calls per 60 s per user (a leaky bucket of 1 calls "
        "draining at 1/s)",
    )
    assert r.headers["Retry-After"] == "1"
    assert last_event(mock) == (429, "rate-limited")
    daily = make(DAILY_RUN_LIMIT=1)
    assert daily.post().status_code == 202
    r = daily.post()
    assert error(r) == (429, "DAILY_LIMIT", "Daily workflow run limit reached")
    assert 1 <= int(r.headers["Retry-After"]) <= 86_400
    assert last_event(daily) == (429, "rate-limited")


def test_an_injected_fault_answers_with_its_status_first(make: Any) -> None:
    mock = make()
    mock.client.post("/__admin/faults", json={"status": 500, "retry_after": 3})
    r = mock.post(token="not even checked")
    assert error(r) == (500, "MOCK_INJECTED_FAULT", "Injected fault")
    assert r.headers["Retry-After"] == "3"
    assert last_event(mock) == (500, "fault")


def test_a_delay_fault_sleeps_its_milliseconds(make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``delay_ms`` 250 sleeps exactly 0.25 s, then the request is handled as usual."""
    slept: list[float] = []
    fake = SimpleNamespace(time=time.time, sleep=slept.append)
    monkeypatch.setattr(trigger, "time", fake)
    mock = make()
    mock.client.post("/__admin/faults", json={"delay_ms": 250})
    assert mock.post().status_code == 202
    assert slept == [0.25]


def test_a_dropped_connection_with_a_status_answers_nothing_and_records_no_run(make: Any) -> None:
    """The view returns an empty 204 and flags the connection to be dropped."""
    mock = make()
    mock.client.post("/__admin/faults", json={"status": 503, "drop_connection": True})
    request = Request(environ(orjson.dumps(PAYLOAD)))
    response = trigger.handle(mock.state, request)
    assert (response.status_code, response.get_data()) == (204, b"")
    assert request.environ[trigger.DROP_FLAG] is True
    assert last_event(mock) == (None, "fault")
    assert mock.runs() == []


# --- the lockout -----------------------------------------------------------------------------


def test_a_locked_out_client_gets_429_with_the_whole_seconds_left(make: Any) -> None:
    mock = make(LOCKOUT_FAILURES=1, LOCKOUT_SECONDS=300)
    assert mock.post(token="nope").status_code == 401
    r = mock.post()
    assert error(r) == (
        429, "AUTH_LOCKED_OUT", "Too many failed authentications from this client",
    )  # fmt: skip
    assert r.headers["Retry-After"] == "300"
    assert last_event(mock) == (429, "locked-out")


class Locked:
    """A lockout that reports a fixed number of seconds left."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def locked_for(self, client: str) -> float:
        return self.seconds


@pytest.mark.parametrize(
    ("left", "retry_after"),
    [(0.0001, "1"), (0.5, "1"), (1.0, "1"), (1.5, "2"), (2.0, "2"), (2.0005, "3"), (299.9, "300")],
)
def test_lockout_retry_after_rounds_up_and_is_at_least_one(
    make: Any, left: float, retry_after: str
) -> None:
    """Seconds left, rounded up (a retry after Retry-After is no longer locked out), never 0."""
    mock = make()
    mock.state.lockout = Locked(left)
    assert mock.post().headers["Retry-After"] == retry_after


def test_the_lockout_is_per_client_address(make: Any) -> None:
    """One address failing does not lock out another."""
    mock = make(LOCKOUT_FAILURES=1)
    assert mock.post(token="nope", remote="10.0.0.1").status_code == 401
    assert mock.post(remote="10.0.0.1").status_code == 429
    assert mock.post(remote="10.0.0.2").status_code == 202


def test_a_request_without_an_address_counts_as_unknown(make: Any) -> None:
    """No remote address: the failures are counted for the client ``unknown``."""
    mock = make(LOCKOUT_FAILURES=1)
    with pytest.raises(MockError):
        trigger.handle(mock.state, Request(environ(b"{}", remote=None, **{"X-API-TOKEN": "x"})))
    assert mock.state.lockout.locked_for("unknown") > 0
    assert mock.state.lockout.locked_for("127.0.0.1") == 0


# --- what a 202 records ----------------------------------------------------------------------


def test_an_accepted_event_is_journalled_and_its_run_reads_the_parsed_body(make: Any) -> None:
    mock = make()
    r = mock.post()
    assert r.status_code == 202
    assert last_event(mock) == (202, "accepted")
    [run] = mock.runs()
    assert (run["requestId"], run["status"]) == (r.get_json()["meta"]["requestId"], "Succeeded")
    assert run["fields"] == {"email": "dave@example.com"}


def test_a_run_waits_for_the_run_delay(make: Any) -> None:
    """RUN_DELAY seconds after it was received, not before."""
    mock = make(RUN_DELAY=3600)
    assert mock.post().status_code == 202
    assert [run["status"] for run in mock.runs()] == ["queued"]


def test_a_disabled_workflow_answers_202_and_makes_no_run(make: Any) -> None:
    mock = make(workflow={"enabled": False})
    assert mock.post().status_code == 202
    assert last_event(mock) == (202, "disabled")
    assert mock.runs() == []


def test_an_idempotency_key_is_kept_to_255_characters(make: Any) -> None:
    mock = make()
    assert mock.post(headers={"Idempotency-Key": "k" * 300}).status_code == 202
    assert mock.events()[0]["idempotency_key"] == "k" * 255


def test_a_duplicate_key_answers_before_the_rate_limit(make: Any) -> None:
    """With the extension, a repeat is answered with the first requestId even when the
    bucket is full: it makes no run, so it costs no call."""
    mock = make(EXTENSION_IDEMPOTENCY_KEYS=True, RATE_BURST=1, RATE_LIMIT=1, RATE_WINDOW=3600)
    first = mock.post(headers={"Idempotency-Key": "k1"})
    again = mock.post(headers={"Idempotency-Key": "k1"})
    assert again.status_code == 202
    assert again.get_json()["meta"]["requestId"] == first.get_json()["meta"]["requestId"]
    assert last_event(mock) == (202, "duplicate")
    assert mock.post().status_code == 429  # without a key: the bucket is full
    assert len(mock.runs()) == 1


class Racing:
    """Idempotency keys where another request claims the key between lookup and claim."""

    def lookup(self, workflow_id: str, key: str, now: float) -> None:
        return None

    def claim(self, workflow_id: str, key: str, request_id: str, now: float) -> str:
        return "first-request"


def test_a_key_claimed_by_a_concurrent_request_is_a_duplicate(make: Any) -> None:
    """Losing the claim race answers 202 with the winner's requestId and makes no run."""
    mock = make()
    mock.state.keys = Racing()
    r = mock.post(headers={"Idempotency-Key": "k1"})
    assert (r.status_code, r.get_json()["meta"]["requestId"]) == (202, "first-request")
    assert last_event(mock) == (202, "duplicate")
    assert mock.runs() == []


def fail_store(mock: Mock, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(op: Any) -> None:
        raise StoreError("disk full")

    monkeypatch.setattr(mock.state.store, "run", broken)


@pytest.mark.parametrize("extension", [True, False])
def test_a_store_failure_is_503_and_releases_the_key(
    make: Any, monkeypatch: pytest.MonkeyPatch, extension: bool
) -> None:
    """No 202 before the run is recorded; the key is freed so that the retry makes the run."""
    mock = make(EXTENSION_IDEMPOTENCY_KEYS=extension)
    with monkeypatch.context() as patch:
        fail_store(mock, patch)
        r = mock.post(headers={"Idempotency-Key": "k1"})
        assert error(r) == (
            503, "STORE_UNAVAILABLE", "The mock could not record this request (disk full); retry later",
        )  # fmt: skip
        assert r.headers["Retry-After"] == "1"
    assert mock.runs() == []
    retry = mock.post(headers={"Idempotency-Key": "k1"})
    assert retry.status_code == 202
    assert last_event(mock) == (202, "accepted")
    assert len(mock.runs()) == 1


# --- the routes ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [PATH, "/inbound-event/v1/events/JSON/triggers"])
def test_the_fast_path_serves_both_trigger_paths(make: Any, path: str) -> None:
    """Both URL shapes go straight to the trigger, never through Flask's routing."""
    mock = make()

    def flask(environ: dict[str, Any], start_response: Any) -> Any:
        raise AssertionError("the fast path handed a trigger POST to Flask")

    fast = TriggerFastPath(mock.app, flask)
    env = EnvironBuilder(
        method="POST", path=path, query_string={"urlTokenId": TOKEN_ID}, data=b"{}",
        headers=Headers({"Content-Type": "application/json", "X-API-TOKEN": TOKEN}),
    ).get_environ()  # fmt: skip
    statuses: list[str] = []
    fast(env, lambda status, headers, *args: statuses.append(status))
    assert statuses == ["202 ACCEPTED"]


@pytest.mark.parametrize("shape", ["json", "JSON"])
def test_the_flask_route_answers_like_the_fast_path(make: Any, shape: str) -> None:
    """Through Flask alone (no fast path), a trigger POST is judged the same way."""
    mock = make()
    with mock.app.test_request_context(
        f"/inbound-event/v1/events/{shape}/triggers",
        method="POST",
        query_string={"urlTokenId": TOKEN_ID},
        data=b"{}",
        headers={"Content-Type": "application/json", "X-API-TOKEN": TOKEN},
    ):
        response = mock.app.view_functions["trigger.trigger"](shape=shape)
    assert response.status_code == 202
    assert last_event(mock) == (202, "accepted")


def test_a_body_that_is_a_json_string_feeds_no_field(make: Any) -> None:
    """A sender that encodes its JSON twice sends one string. A JSONPath over a string selects
    nothing (RFC 9535), so the run fails on its required field; the JSONPath library would
    otherwise parse the string as JSON and find the email inside it, a false pass."""
    mock = make()
    twice = orjson.dumps(orjson.dumps(PAYLOAD).decode())
    assert mock.post(twice).status_code == 202
    [run] = mock.runs()
    assert (run["status"], run["fields"]) == ("Failed", {})
    assert run["error"] == "required field 'email' ($.identityMap.Email[0].id) matched nothing"
