"""End to end over real HTTP: a LiveMock on a free 127.0.0.1 port, driven with httpx."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from support.mock import OTHER_TOKEN, PAYLOAD, TOKEN, TOKEN_ID, USER, WF, base_config

from mock_qualtrics import LiveMock

TRIGGER = f"/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}"


def post(admin: httpx.Client, body: Any = None, **headers: str) -> httpx.Response:
    all_headers = {"X-API-TOKEN": TOKEN, **headers}
    if body is None:
        return admin.post(TRIGGER, json=PAYLOAD, headers=all_headers)
    return admin.post(TRIGGER, content=body, headers=all_headers)


def outcomes(admin: httpx.Client) -> list[str]:
    return [e["outcome"] for e in admin.get("/__admin/events").json()["events"]]


def test_every_rule_over_http(live: LiveMock, admin: httpx.Client) -> None:
    """Auth, limits, idempotency and disabled workflows behave the same over real HTTP."""
    assert admin.get("/__admin/health").json() == {"status": "ok"}
    assert post(admin).status_code == 202
    assert admin.post(TRIGGER, json=PAYLOAD, auth=(USER, TOKEN)).status_code == 202
    assert admin.post(TRIGGER, json=PAYLOAD).status_code == 401
    assert post(admin, **{"X-API-TOKEN": OTHER_TOKEN}).status_code == 403
    assert (
        admin.post("/inbound-event/v1/events/JSON/triggers?triggerId=x", json={}).status_code == 404
    )
    old = f"/inbound-event/v1/events/JSON/triggers?contextId=c&triggerId={TOKEN_ID}"
    assert admin.post(old, json=PAYLOAD, headers={"X-API-TOKEN": TOKEN}).status_code == 202
    big = b'{"a":"' + b"x" * 102_400 + b'"}'
    assert post(admin, big, **{"Content-Type": "application/json"}).status_code == 413
    assert post(admin, b"hello", **{"Content-Type": "text/plain"}).status_code == 415
    assert post(admin, b"{", **{"Content-Type": "application/json"}).status_code == 400
    deep = b"[" * 20_000 + b"]" * 20_000
    assert post(admin, deep, **{"Content-Type": "application/json"}).status_code == 400
    first = post(admin, **{"Idempotency-Key": "k"}).json()["meta"]["requestId"]
    dup = post(admin, **{"Idempotency-Key": "k"})
    assert dup.status_code == 202
    assert dup.json()["meta"]["requestId"] != first  # no dedup: Qualtrics documents none
    admin.patch(f"/__admin/workflows/{WF}", json={"enabled": False})
    assert post(admin).status_code == 202
    admin.patch(f"/__admin/workflows/{WF}", json={"enabled": True})
    runs = admin.get(f"/__admin/workflows/{WF}/runs", params={"wait_for": 5, "timeout": 10}).json()
    assert runs["timed_out"] is False
    assert len(runs["runs"]) == 5
    assert {r["duplicate_of"] for r in runs["runs"][:-1]} == {runs["runs"][-1]["id"]}
    assert outcomes(admin) == [
        "disabled",
        "accepted",
        "accepted",
        "too-deep",
        "invalid-json",
        "unsupported-media-type",
        "too-large",
        "accepted",
        "not-found",
        "forbidden",
        "unauthorized",
        "accepted",
        "accepted",
    ]


def test_limits_and_lockout_over_http() -> None:
    with (
        LiveMock(base_config(RATE_LIMIT=2, RATE_BURST=2, LOCKOUT_FAILURES=2)) as live,
        httpx.Client(base_url=live.url) as admin,
    ):
        assert [post(admin).status_code for _ in range(3)] == [202, 202, 429]
        assert int(post(admin).headers["Retry-After"]) >= 1
        for _ in range(2):
            post(admin, **{"X-API-TOKEN": "wrong"})
        assert post(admin).status_code == 429
        assert outcomes(admin)[0] == "locked-out"


def test_faults_over_http(admin: httpx.Client) -> None:
    """Status + Retry-After, delay, and dropped connections (with and without a status)."""
    admin.post("/__admin/faults", json={"status": 503, "retry_after": 2})
    r = post(admin)
    assert (r.status_code, r.headers["Retry-After"]) == (503, "2")
    admin.post("/__admin/faults", json={"delay_ms": 100})
    started = time.monotonic()
    assert post(admin).status_code == 202
    assert time.monotonic() - started >= 0.1
    admin.post("/__admin/faults", json={"status": 500, "drop_connection": True})
    with pytest.raises(httpx.RemoteProtocolError):
        post(admin)
    # Without a status the request is handled (a run is recorded) but the answer is dropped:
    # a retry with the same Idempotency-Key then makes a second run, marked duplicate_of.
    admin.post("/__admin/faults", json={"drop_connection": True})
    with pytest.raises(httpx.RemoteProtocolError):
        post(admin, **{"Idempotency-Key": "lost-answer"})
    assert post(admin, **{"Idempotency-Key": "lost-answer"}).status_code == 202
    runs = admin.get(f"/__admin/workflows/{WF}/runs", params={"wait_for": 3, "timeout": 10}).json()
    assert len(runs["runs"]) == 3
    retry, lost, _ = runs["runs"]
    assert retry["duplicate_of"] is not None
    assert lost["duplicate_of"] is not None  # the same body as the delayed request before it
    assert outcomes(admin)[:3] == ["accepted", "accepted", "fault"]


def test_long_poll_wakes_when_runs_finish(admin: httpx.Client) -> None:
    """A waiting GET returns as soon as the N-th run has finished, well before its timeout."""
    result: dict[str, Any] = {}

    def wait() -> None:
        started = time.monotonic()
        result["body"] = admin.get(
            f"/__admin/workflows/{WF}/runs", params={"wait_for": 3, "timeout": 20}
        ).json()
        result["took"] = time.monotonic() - started

    waiter = threading.Thread(target=wait)
    waiter.start()
    with httpx.Client(base_url=str(admin.base_url)) as sender:
        for _ in range(3):
            assert post(sender).status_code == 202
    waiter.join(timeout=25)
    assert result["body"]["timed_out"] is False
    assert len(result["body"]["runs"]) == 3
    assert result["took"] < 10


def test_concurrent_clients_lose_and_duplicate_nothing() -> None:
    """32 clients, 600 events (some sent twice with the same key), idempotency extension on:
    one run per distinct event, however the repeats race the originals."""
    with (
        LiveMock(base_config(EXTENSION_IDEMPOTENCY_KEYS=True)) as live,
        httpx.Client(base_url=live.url, timeout=40) as admin,
    ):
        _send_concurrently(admin)


def _send_concurrently(admin: httpx.Client) -> None:
    events = [f"event-{i}" for i in range(600)]

    def send(chunk: list[str]) -> list[str]:
        ids = []
        with httpx.Client(base_url=str(admin.base_url)) as c:
            for key in chunk:
                payload = {"identityMap": {"Email": [{"id": f"{key}@example.com"}]}}
                r = c.post(
                    TRIGGER, json=payload, headers={"X-API-TOKEN": TOKEN, "Idempotency-Key": key}
                )
                assert r.status_code == 202
                ids.append(r.json()["meta"]["requestId"])
        return ids

    chunks = [events[i::32] for i in range(32)]
    chunks += [events[i::64] for i in range(8)]  # repeats, racing the originals
    with ThreadPoolExecutor(max_workers=40) as pool:
        list(pool.map(send, chunks))
    body = admin.get(
        f"/__admin/workflows/{WF}/runs", params={"wait_for": 600, "timeout": 30, "limit": 10_000}
    ).json()
    assert body["timed_out"] is False
    emails = sorted(r["fields"]["email"] for r in body["runs"])
    assert emails == sorted(f"{k}@example.com" for k in events)
    assert len({r["requestId"] for r in body["runs"]}) == 600


def test_ui_over_http(live: LiveMock, admin: httpx.Client) -> None:
    post(admin)
    admin.get(f"/__admin/workflows/{WF}/runs", params={"wait_for": 1, "timeout": 5})
    r = admin.get("/")
    assert r.status_code == 200
    assert "text/html" in r.headers["content-type"]
    assert "Test workflow" in r.text
