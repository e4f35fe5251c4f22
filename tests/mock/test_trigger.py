"""The trigger endpoint through Flask's test client: auth, limits, idempotency, faults."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from support.mock import OTHER_TOKEN, TOKEN, TOKEN_ID, USER, WF, TriggerActions, basic

from mock_qualtrics import ConnectionDropped
from mock_qualtrics.state import current_state


def _error(response: Any) -> dict[str, Any]:
    meta: dict[str, Any] = response.get_json()["meta"]
    return meta


def test_accepted_answers_202_with_v3_envelope(trigger: TriggerActions) -> None:
    """An accepted event gets 202 and a requestId in the Qualtrics v3 envelope."""
    r = trigger.post()
    assert r.status_code == 202
    body = r.get_json()
    assert body["result"] == {}
    assert body["meta"]["httpStatus"] == "202 - Accepted"
    assert len(body["meta"]["requestId"]) == 36
    assert trigger.events()[0]["outcome"] == "accepted"


def test_basic_auth_accepted(trigger: TriggerActions) -> None:
    """Basic base64(username:apitoken) authenticates like X-API-TOKEN."""
    r = trigger.post(token=None, headers={"Authorization": basic(USER, TOKEN)})
    assert r.status_code == 202


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-TOKEN": "wrong"},
        {"Authorization": basic(USER, "wrong")},
        {"Authorization": basic("nobody@example.com", TOKEN)},
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Basic " + "dXNlcg=="},  # no colon
        {"Authorization": "Bearer " + TOKEN},
    ],
)
def test_missing_or_wrong_credentials_are_401(
    trigger: TriggerActions, headers: dict[str, str]
) -> None:
    """Missing or wrong credentials: 401 in the error envelope, journalled, no run."""
    r = trigger.post(token=None, headers=headers)
    assert r.status_code == 401
    meta = _error(r)
    assert meta["httpStatus"] == "401 - Unauthorized"
    assert meta["error"]["errorCode"]
    assert meta["error"]["errorMessage"]
    assert trigger.events()[0]["outcome"] == "unauthorized"
    assert trigger.runs() == []


def test_other_users_token_is_403(trigger: TriggerActions) -> None:
    """A valid token of a user who does not own the workflow: 403."""
    r = trigger.post(token=OTHER_TOKEN)
    assert r.status_code == 403
    assert _error(r)["httpStatus"] == "403 - Forbidden"
    assert trigger.events()[0]["outcome"] == "forbidden"


def test_auth_not_required_accepts_anonymous(make_app: Any) -> None:
    """A workflow with auth_required = false accepts a request without credentials."""
    app = make_app(
        WORKFLOWS=[
            {"id": WF, "name": "n", "owner": USER, "url_token_id": TOKEN_ID, "auth_required": False}
        ]
    )
    assert TriggerActions(app.test_client()).post(token=None).status_code == 202


def test_unknown_token_is_404(trigger: TriggerActions) -> None:
    """An unknown urlTokenId, or none at all, is 404."""
    r = trigger.post(token_id="00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404
    assert trigger.post(url="/inbound-event/v1/events/json/triggers").status_code == 404
    assert trigger.events()[0]["outcome"] == "not-found"


def test_older_url_shape_with_trigger_id(trigger: TriggerActions) -> None:
    """/JSON/triggers?...&triggerId= works with the url token or the workflow id."""
    for trigger_id in (TOKEN_ID, WF):
        url = f"/inbound-event/v1/events/JSON/triggers?contextId=c&userId=u&triggerId={trigger_id}"
        assert trigger.post(url=url).status_code == 202


def test_lockout_after_ten_failures(make_app: Any) -> None:
    """10 failures in the window lock the client out: 429 even with valid credentials."""
    app = make_app(LOCKOUT_FAILURES=3)
    t = TriggerActions(app.test_client())
    for _ in range(3):
        assert t.post(token="wrong").status_code == 401
    r = t.post()
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1
    assert t.events()[0]["outcome"] == "locked-out"


def test_lockout_ends(make_app: Any) -> None:
    """The lockout lasts LOCKOUT_SECONDS."""
    app = make_app(LOCKOUT_FAILURES=1, LOCKOUT_SECONDS=0.05)
    t = TriggerActions(app.test_client())
    t.post(token="wrong")
    assert t.post().status_code == 429
    time.sleep(0.06)  # the lockout's own clock, not a wait for a run
    assert t.post().status_code == 202


def test_body_over_limit_is_413(trigger: TriggerActions) -> None:
    """A body over 102,400 bytes is 413; exactly 102,400 is fine."""
    filler = "x" * (102_400 - len('{"a":""}'))
    assert trigger.post(body=('{"a":"' + filler + '"}').encode()).status_code == 202
    r = trigger.post(body=('{"a":"' + filler + 'y"}').encode())
    assert r.status_code == 413
    assert trigger.events()[0]["outcome"] == "too-large"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "", "application/jsonx"]
)
def test_non_json_content_type_is_415(trigger: TriggerActions, content_type: str) -> None:
    """Nothing but JSON is processed."""
    r = trigger.post(headers={"Content-Type": content_type})
    assert r.status_code == 415


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "APPLICATION/JSON", "application/vnd.api+json"],
)
def test_json_content_types_are_accepted(trigger: TriggerActions, content_type: str) -> None:
    """JSON and the ``+json`` suffix, any case, with parameters."""
    r = trigger.post(headers={"Content-Type": content_type})
    assert r.status_code == 202


@pytest.mark.parametrize("body", [b"{", b"not json", b"", b'{"a": 1}}', b"\xff\xfe"])
def test_invalid_json_is_400(trigger: TriggerActions, body: bytes) -> None:
    r = trigger.post(body=body)
    assert r.status_code == 400
    assert trigger.events()[0]["outcome"] == "invalid-json"


def test_nesting_limit(trigger: TriggerActions) -> None:
    """32 levels are fine, 33 are 400; 100,000 levels do not raise RecursionError."""
    assert trigger.post(body=b"[" * 32 + b"]" * 32).status_code == 202
    assert trigger.post(body=b"[" * 33 + b"]" * 33).status_code == 400
    assert trigger.post(body=b'{"a":' * 40 + b"1" + b"}" * 40).status_code == 400
    unclosed = trigger.post(body=b"[" * 100_000)  # 100,000 bytes: under the size limit
    assert unclosed.status_code == 400
    assert unclosed.get_json()["meta"]["error"]["errorCode"] == "JSON_TOO_DEEP"
    assert trigger.events()[0]["outcome"] == "too-deep"
    assert trigger.post(body=b"[" * 50_000 + b"]" * 50_000).status_code == 400
    assert trigger.events()[0]["outcome"] == "too-deep"
    # brackets inside strings do not count
    assert trigger.post(payload={"a": "[" * 100}).status_code == 202


@pytest.mark.parametrize(
    ("body", "code"),
    [
        # 33 brackets (past the fast path) at depth 1: not too deep, so the parser says why
        (b"X" * 40 + b"[]" * 33, "INVALID_JSON"),
        # depth 33 with a stray byte after each bracket: too deep, whatever follows
        (b"[X" * 33, "JSON_TOO_DEEP"),
    ],
)
def test_only_brackets_nest(trigger: TriggerActions, body: bytes, code: str) -> None:
    """Nesting counts ``[``/``{`` up and ``]``/``}`` down, no other byte: invalid bodies say
    INVALID_JSON or JSON_TOO_DEEP by their brackets alone (the depth check runs before parsing,
    so a stray byte counted as a bracket would swap the two)."""
    answer = trigger.post(body=body)
    assert answer.status_code == 400
    assert _error(answer)["error"]["errorCode"] == code


def test_rate_limit_with_retry_after(make_app: Any) -> None:
    """A call that overflows the bucket: 429, whole-second Retry-After, the configured numbers."""
    app = make_app(RATE_LIMIT=3, RATE_WINDOW=60, RATE_BURST=3)
    t = TriggerActions(app.test_client())
    assert [t.post().status_code for _ in range(3)] == [202] * 3
    r = t.post()
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 20  # one call drains in 60 / 3 s
    message = r.get_json()["meta"]["error"]["errorMessage"]
    assert "at most 3 calls per 60 s" in message
    assert "bucket of 3 calls" in message
    assert t.events()[0]["outcome"] == "rate-limited"
    assert len(t.runs(wait_for=3, timeout=5)) == 3


def test_daily_run_limit(make_app: Any) -> None:
    app = make_app(DAILY_RUN_LIMIT=2)
    t = TriggerActions(app.test_client())
    assert [t.post().status_code for _ in range(3)] == [202, 202, 429]
    assert int(t.post().headers["Retry-After"]) >= 1


def test_repeats_make_runs_marked_duplicate_of(trigger: TriggerActions) -> None:
    """Faithful by default: a repeated key, or repeated body bytes, makes a second run like
    Qualtrics would, and that run names the first one in ``duplicate_of``."""
    first = trigger.post(headers={"Idempotency-Key": "k1"}).get_json()["meta"]["requestId"]
    again = trigger.post(headers={"Idempotency-Key": "k1"}, payload={"other": "body"})
    assert again.status_code == 202
    assert again.get_json()["meta"]["requestId"] != first
    trigger.post(headers={"Idempotency-Key": "k2"}, payload={"third": 1})
    trigger.post()  # no key, same bytes as the first
    runs = trigger.runs(wait_for=4, timeout=5)
    assert len(runs) == 4
    same_body, third, by_key, original = runs
    assert original["requestId"] == first
    assert original["duplicate_of"] is None
    assert by_key["duplicate_of"] == original["id"]
    assert third["duplicate_of"] is None
    assert same_body["duplicate_of"] == original["id"]
    assert [e["outcome"] for e in trigger.events()] == ["accepted"] * 4


def test_idempotency_extension_dedups(make_app: Any) -> None:
    """With the idempotency-keys extension, a repeated key gets 202 with the first requestId
    and makes no second run."""
    trigger = TriggerActions(make_app(EXTENSION_IDEMPOTENCY_KEYS=True).test_client())
    first = trigger.post(headers={"Idempotency-Key": "k1"}).get_json()["meta"]["requestId"]
    again = trigger.post(headers={"Idempotency-Key": "k1"})
    assert again.status_code == 202
    assert again.get_json()["meta"]["requestId"] == first
    other = trigger.post(headers={"Idempotency-Key": "k2"}).get_json()["meta"]["requestId"]
    assert other != first
    runs = trigger.runs(wait_for=2, timeout=5)
    assert len(runs) == 2
    assert runs[0]["duplicate_of"] == runs[1]["id"]  # same body bytes, different keys
    outcomes = [e["outcome"] for e in trigger.events()]
    assert outcomes == ["accepted", "duplicate", "accepted"]
    assert trigger.events()[1]["idempotency_key"] == "k1"


def test_idempotency_key_expires(make_app: Any) -> None:
    app = make_app(IDEMPOTENCY_TTL=0.01, EXTENSION_IDEMPOTENCY_KEYS=True)
    t = TriggerActions(app.test_client())
    a = t.post(headers={"Idempotency-Key": "k"}).get_json()["meta"]["requestId"]
    time.sleep(0.02)  # the key's own expiry
    b = t.post(headers={"Idempotency-Key": "k"}).get_json()["meta"]["requestId"]
    assert a != b


def test_rejected_requests_register_no_key(make_app: Any) -> None:
    """Only accepted requests register an Idempotency-Key (extension on)."""
    trigger = TriggerActions(make_app(EXTENSION_IDEMPOTENCY_KEYS=True).test_client())
    assert trigger.post(token="wrong", headers={"Idempotency-Key": "k"}).status_code == 401
    trigger.client.post("/__admin/faults", json={"status": 503})
    assert trigger.post(headers={"Idempotency-Key": "k"}).status_code == 503
    r = trigger.post(headers={"Idempotency-Key": "k"})
    assert trigger.events()[0]["outcome"] == "accepted"
    assert r.status_code == 202


def test_disabled_workflow_answers_202_and_records_no_run(client: Any) -> None:
    """Disabled: the sender sees success, history stays empty, the journal says why."""
    assert client.patch(f"/__admin/workflows/{WF}", json={"enabled": False}).status_code == 200
    t = TriggerActions(client)
    assert t.post().status_code == 202
    assert t.runs() == []
    assert t.events()[0]["outcome"] == "disabled"


def test_fault_status_before_auth(trigger: TriggerActions, client: Any) -> None:
    """A status fault answers before auth, with Retry-After, and leaves no run and no key."""
    assert client.post("/__admin/faults", json={"status": 429, "retry_after": 7}).status_code == 201
    r = trigger.post(token="wrong", headers={"Idempotency-Key": "k"})
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "7"
    assert trigger.events()[0]["outcome"] == "fault"
    assert trigger.runs() == []
    ok = trigger.post(headers={"Idempotency-Key": "k"})
    assert ok.status_code == 202
    assert trigger.events()[0]["outcome"] == "accepted"


def test_faults_apply_in_posting_order_and_count(trigger: TriggerActions, client: Any) -> None:
    client.post("/__admin/faults", json={"status": 503, "count": 2})
    client.post("/__admin/faults", json={"status": 500})
    codes = [trigger.post().status_code for _ in range(4)]
    assert codes == [503, 503, 500, 202]
    assert client.get("/__admin/faults").get_json()["faults"] == []


def test_fault_for_one_workflow(trigger: TriggerActions, client: Any) -> None:
    client.post("/__admin/faults", json={"status": 503, "workflow_id": "WF_other"})
    assert trigger.post().status_code == 202
    assert len(client.get("/__admin/faults").get_json()["faults"]) == 1
    assert client.delete("/__admin/faults").status_code == 204
    assert client.get("/__admin/faults").get_json()["faults"] == []


def test_probability_fault_is_reproducible(make_app: Any) -> None:
    """A probability with a seed gives the same sequence every time."""
    sequences = []
    for _ in range(2):
        app = make_app()
        c = app.test_client()
        c.post("/__admin/faults", json={"status": 503, "probability": 0.5, "seed": 42})
        t = TriggerActions(c)
        sequences.append([t.post().status_code for _ in range(20)])
    assert sequences[0] == sequences[1]
    assert {202, 503} == set(sequences[0])


def test_delay_fault_then_normal_handling(trigger: TriggerActions, client: Any) -> None:
    client.post("/__admin/faults", json={"delay_ms": 50})
    started = time.monotonic()
    assert trigger.post().status_code == 202
    assert time.monotonic() - started >= 0.05
    assert trigger.events()[0]["outcome"] == "accepted"


def test_drop_fault_raises_to_the_server(trigger: TriggerActions, client: Any) -> None:
    """Under a test client the drop surfaces as ConnectionDropped (waitress closes the socket)."""
    client.post("/__admin/faults", json={"status": 503, "drop_connection": True})
    with pytest.raises(ConnectionDropped):
        trigger.post()
    event = trigger.events()[0]
    assert event["outcome"] == "fault"
    assert event["status_code"] is None


def test_journal_never_holds_credentials(trigger: TriggerActions, client: Any) -> None:
    trigger.post(token=TOKEN)
    trigger.post(token=None, headers={"Authorization": basic(USER, "secret-pw")})
    text = client.get("/__admin/export").get_data(as_text=True)
    text += client.get("/__admin/events").get_data(as_text=True)
    assert TOKEN not in text
    assert "secret-pw" not in text


def test_never_a_stack_trace(app: Flask) -> None:
    """An unexpected error is a 500 envelope without a traceback."""

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    r = app.test_client().get("/boom")
    assert r.status_code == 500
    assert "Traceback" not in r.get_data(as_text=True)
    assert "secret internals" not in r.get_data(as_text=True)
    assert r.get_json()["meta"]["httpStatus"] == "500 - Internal Server Error"


def test_method_not_allowed_is_enveloped(client: Any) -> None:
    r = client.get(f"/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}")
    assert r.status_code == 405
    assert r.get_json()["meta"]["httpStatus"] == "405 - Method Not Allowed"


def test_trigger_posts_keep_the_host_guard_and_headers(trigger: TriggerActions) -> None:
    """The trigger's fast path (no Flask request machinery) answers like every other route: a
    rebound Host is 421 before anything is journalled, and every answer carries nosniff."""
    url = f"http://evil.example/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}"
    refused = trigger.post(url=url)
    assert refused.status_code == 421
    assert _error(refused)["error"]["errorCode"] == "MISDIRECTED_REQUEST"
    assert refused.headers["X-Content-Type-Options"] == "nosniff"
    assert trigger.events() == []
    for shape in ("json", "JSON"):
        url = f"/inbound-event/v1/events/{shape}/triggers?urlTokenId={TOKEN_ID}"
        answer = trigger.post(url=url)
        assert answer.status_code == 202, shape
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Content-Length"] == str(len(answer.get_data()))
        assert sorted(answer.headers.keys()) == [  # the same headers a Response would carry
            "Content-Length",
            "Content-Type",
            "X-Content-Type-Options",
        ]
        assert answer.headers["Content-Type"] == "application/json"
    assert trigger.post(url=url + "/").status_code == 404  # not a trigger path: Flask answers it


def test_trigger_store_failure_is_503_not_a_traceback(trigger: TriggerActions, app: Flask) -> None:
    """A closed store answers the trigger 503 with Retry-After, in the envelope."""
    current_state(app).store.close()
    answer = trigger.post()
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert "Traceback" not in answer.get_data(as_text=True)
