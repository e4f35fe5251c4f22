"""The admin surface against web pages: Host allow-list, cross-origin writes, JSON only, headers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient
from support.mock import TriggerActions

from mock_qualtrics import LiveMock

ADMIN_TOKEN = "a-long-enough-admin-token"


def _reset(client: FlaskClient, **kwargs: Any) -> Any:
    return client.post("/__admin/reset", **kwargs)


def _runs_kept(trigger: TriggerActions) -> bool:
    return len(trigger.runs(wait_for=1, timeout=5)) == 1


def test_form_post_to_reset_is_415_and_resets_nothing(trigger: TriggerActions) -> None:
    """What an HTML form can send (urlencoded, multipart, text/plain) never changes the mock."""
    assert trigger.post().status_code == 202
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain"):
        answer = _reset(trigger.client, data=b"everything=true", content_type=content_type)
        assert answer.status_code == 415
        assert answer.get_json()["meta"]["error"]["errorCode"] == "UNSUPPORTED_MEDIA_TYPE"
    assert _reset(trigger.client).status_code == 415  # no Content-Type at all
    assert _runs_kept(trigger)


def test_reset_takes_an_empty_json_object(trigger: TriggerActions) -> None:
    assert trigger.post().status_code == 202
    assert _reset(trigger.client, json={}).status_code == 200
    assert trigger.runs() == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://127.0.0.1:9999"},  # another port: same site, other origin
        {"Origin": "http://localhost:9999"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_cross_origin_writes_are_403(trigger: TriggerActions, headers: dict[str, str]) -> None:
    """POST, PATCH and DELETE from another origin are refused before they touch anything."""
    assert trigger.post().status_code == 202
    client = trigger.client
    for answer in (
        _reset(client, json={}, headers=headers),
        client.patch("/__admin/workflows/WF_test", json={"enabled": False}, headers=headers),
        client.delete("/__admin/workflows/WF_test", headers=headers),
    ):
        assert answer.status_code == 403
        assert answer.get_json()["meta"]["error"]["errorCode"] == "CROSS_ORIGIN_REFUSED"
    assert _runs_kept(trigger)
    assert client.get("/__admin/workflows/WF_test").get_json()["enabled"] is True


def test_same_origin_writes_and_reads_from_anywhere_are_allowed(client: FlaskClient) -> None:
    """The mock's own origin may write; GETs carry no Origin check (they change nothing)."""
    own = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert _reset(client, json={}, headers=own).status_code == 200
    assert (
        client.get("/__admin/health", headers={"Origin": "http://evil.example"}).status_code == 200
    )


def test_delete_takes_no_body(client: FlaskClient) -> None:
    answer = client.delete("/__admin/faults", data=b"{}", content_type="application/json")
    assert answer.status_code == 400
    assert answer.get_json()["meta"]["error"] == {
        "errorMessage": "A DELETE takes no body",
        "errorCode": "BODY_NOT_ALLOWED",
    }
    assert client.delete("/__admin/faults").status_code == 204


def test_patch_needs_json_content_type(client: FlaskClient) -> None:
    answer = client.patch(
        "/__admin/workflows/WF_test", data=b'{"enabled": false}', content_type="text/plain"
    )
    assert answer.status_code == 415


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:8080", "127.0.0.1:5000", "127.9.9.9", "[::1]:80", "LOCALHOST"]
)
def test_loopback_hosts_are_answered(make_app: Any, host: str) -> None:
    client = make_app().test_client()
    assert client.get("/__admin/health", base_url=f"http://{host}/").status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "10.0.0.1", "localhost.evil"])
def test_other_hosts_are_421_without_an_admin_token(make_app: Any, host: str) -> None:
    """DNS rebinding: a page whose name now points at 127.0.0.1 still sends its own Host."""
    client = make_app().test_client()
    for answer in (
        client.get("/__admin/workflows", base_url=f"http://{host}/"),
        client.get("/", base_url=f"http://{host}/"),
        _reset(client, json={}, base_url=f"http://{host}/"),
    ):
        assert answer.status_code == 421
        assert answer.get_json()["meta"]["error"]["errorCode"] == "MISDIRECTED_REQUEST"


def test_public_hosts_are_answered_and_name_the_trigger_url(make_app: Any) -> None:
    client = make_app(PUBLIC_HOSTS=("mock.internal",)).test_client()
    answer = client.get("/__admin/workflows/WF_test", base_url="http://mock.internal:8080/")
    assert answer.status_code == 200
    assert answer.get_json()["trigger_url"].startswith("http://mock.internal:8080/inbound-event/")
    assert client.get("/", base_url="http://evil.example/").status_code == 421


def test_with_an_admin_token_the_token_guards_any_host(make_app: Any) -> None:
    """An admin token lets any Host through to the token check; public hosts still restrict."""
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    open_app = make_app(ADMIN_TOKEN=ADMIN_TOKEN).test_client()
    assert open_app.get("/__admin/workflows", base_url="http://mock.lan/").status_code == 401
    ok = open_app.get("/__admin/workflows", base_url="http://mock.lan/", headers=auth)
    assert ok.status_code == 200
    named = make_app(ADMIN_TOKEN=ADMIN_TOKEN, PUBLIC_HOSTS=("mock.lan",)).test_client()
    assert named.get("/__admin/health", base_url="http://mock.lan/").status_code == 200
    assert named.get("/__admin/health", base_url="http://evil.example/").status_code == 421


def test_admin_token_lockout(make_app: Any) -> None:
    """Wrong admin tokens lock the client out like trigger auth: then even the right one is 429."""
    client = make_app(ADMIN_TOKEN=ADMIN_TOKEN, LOCKOUT_FAILURES=3).test_client()
    right = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert client.get("/__admin/workflows").status_code == 401  # no token: not counted
    for _ in range(3):
        wrong = client.get("/__admin/workflows", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
    locked = client.get("/__admin/workflows", headers=right)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) >= 1
    assert client.get("/", headers=right).status_code == 429  # the UI shares the lockout


def test_security_headers(trigger: TriggerActions) -> None:
    """nosniff on every answer; HTML also gets a CSP without script or framing, and no referrer."""
    client = trigger.client
    for answer in (
        trigger.post(),
        client.get("/__admin/health"),
        client.get("/nope"),
        client.get("/"),
    ):
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "script-src" not in csp  # default-src 'none' allows no script at all
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert b"<script" not in page.data
    assert b"<style" not in page.data
    with client.get("/static/ui.css") as css:
        assert css.status_code == 200
        assert css.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/__admin/workflows/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404),
        ("/__admin/runs/%3Cimg%20src%3Dx%3E", 404),
        ("/%3Cb%3Ebold%3C%2Fb%3E", 404),
        ("/__admin/workflows/WF_test/runs?status=%3Cb%3E", 400),
    ],
)
def test_error_bodies_carry_no_markup(client: FlaskClient, path: str, status: int) -> None:
    """An id or filter echoed in an error is escaped (same JSON text, no '<' byte)."""
    answer = client.get(path)
    assert answer.status_code == status
    assert b"<" not in answer.data
    assert b">" not in answer.data
    assert answer.get_json()["meta"]["error"]["errorMessage"]


def test_guard_over_real_http(live: LiveMock, admin: httpx.Client) -> None:
    """Through waitress: a rebound Host is 421, a cross-origin or form write is 403/415."""
    assert admin.get("/__admin/health", headers={"Host": "evil.example"}).status_code == 421
    evil = {"Origin": "http://127.0.0.1:1", "Content-Type": "application/json"}
    assert admin.post("/__admin/reset", content=b"{}", headers=evil).status_code == 403
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert admin.post("/__admin/reset", content=b"everything=true", headers=form).status_code == 415
    own = {"Origin": live.url, "Content-Type": "application/json"}
    assert admin.post("/__admin/reset", content=b"{}", headers=own).status_code == 200
    assert admin.get("/").headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")
