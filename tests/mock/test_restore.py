"""``LiveMock.restore``: the pytest plugin's mock between two tests, over real HTTP."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from support.mock import OTHER, PAYLOAD, TOKEN, TOKEN_ID, USER, WF, base_config

from mock_qualtrics import LiveMock
from mock_qualtrics.server import KEPT_CONNECTIONS
from mock_qualtrics.state import current_state
from mock_qualtrics.workflows import ValidationError

TRIGGER = f"/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}"


@pytest.fixture
def kept() -> Iterator[LiveMock]:
    live = LiveMock(base_config()).start()
    yield live
    live.stop()


def _generation(live: LiveMock) -> int:
    return current_state(live.app).store.generation


def test_an_untouched_mock_is_not_rewritten(kept: LiveMock) -> None:
    """No request and no commit since the last restore: nothing to undo, so no commit."""
    before = _generation(kept)
    kept.restore()
    kept.restore()
    assert _generation(kept) == before


def test_any_request_makes_the_next_restore_reset_everything(kept: LiveMock) -> None:
    """A fault set, a run made, a user added: each request is undone, and the config's users
    and workflows are back, in one commit."""
    with httpx.Client(base_url=kept.url) as client:
        extra = {"username": "extra", "api_token": "t" * 16}
        client.post("/__admin/users", json=extra).raise_for_status()
        client.post("/__admin/faults", json={"status": 500, "count": 2}).raise_for_status()
        assert client.post(TRIGGER, json=PAYLOAD, auth=(USER, TOKEN)).status_code == 500
        client.delete(f"/__admin/workflows/{WF}").raise_for_status()
    assert kept.quiesce()
    before = _generation(kept)
    kept.restore()
    assert _generation(kept) == before + 1  # the wipe and the config, together
    with httpx.Client(base_url=kept.url) as client:
        users = [u["username"] for u in client.get("/__admin/users").json()["users"]]
        assert sorted(users) == sorted([USER, OTHER])
        assert client.get("/__admin/faults").json()["faults"] == []
        assert client.get("/__admin/events").json()["events"] == []
        assert client.post(TRIGGER, json=PAYLOAD, auth=(USER, TOKEN)).status_code == 202


def test_a_health_check_alone_still_counts_as_a_touch(kept: LiveMock) -> None:
    """Whether a request changed anything is not guessed: any request means a full restore."""
    httpx.get(kept.url + "/__admin/health").raise_for_status()
    before = _generation(kept)
    kept.restore()
    assert _generation(kept) == before + 1


def test_a_bad_config_wipes_nothing(kept: LiveMock) -> None:
    """The config is checked before the wipe: a refused one leaves the mock as it was."""
    with httpx.Client(base_url=kept.url) as client:
        assert client.post(TRIGGER, json=PAYLOAD, auth=(USER, TOKEN)).status_code == 202
    state = current_state(kept.app)
    with pytest.raises(ValidationError, match=r"^workflows\[0\]\."):
        state.restore([], [{"id": "WF_x"}])
    with httpx.Client(base_url=kept.url) as client:
        assert len(client.get("/__admin/events").json()["events"]) == 1


def test_the_config_is_checked_once_yet_a_changed_one_is_applied(
    kept: LiveMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Restoring the same config again skips its schema check (the plugin's restore before each
    test cost more in the check than in the commit); a changed config, even one changed in
    place, is checked and applied."""
    state = current_state(kept.app)
    checks: list[str] = []
    check = state.schema.body
    monkeypatch.setattr(state.schema, "body", lambda op, data: checks.append(op) or check(op, data))
    users = [{"username": "a", "api_token": "t" * 16}]
    state.restore(users, [])
    state.restore(users, [])
    assert checks == ["createUser"]
    users[0]["username"] = "b"  # the same list, changed in place
    state.restore(users, [])
    assert checks == ["createUser", "createUser"]
    with httpx.Client(base_url=kept.url) as client:
        assert [u["username"] for u in client.get("/__admin/users").json()["users"]] == ["b"]
    with pytest.raises(ValidationError, match=r"^workflows\[0\]\."):
        state.restore(users, [{"id": "WF_x"}])


def _request(sock: socket.socket) -> bytes:
    """One keep-alive GET on ``sock``; the answer's status line (empty: the server closed it)."""
    answer = b""
    try:
        sock.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    except OSError:  # reset: closed
        return b""
    return answer.split(b"\r\n", 1)[0]


def _closed(sock: socket.socket) -> bool:
    sock.settimeout(5)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_quiesce_keeps_idle_connections_and_closes_the_rest(kept: LiveMock) -> None:
    """An idle keep-alive connection carries nothing and stays usable (up to KEPT_CONNECTIONS of
    them); half a request is closed, so its rest can never reach the next test's mock."""
    address = (kept.host, kept.port)
    idle = [socket.create_connection(address) for _ in range(KEPT_CONNECTIONS + 2)]
    half = socket.create_connection(address)
    try:
        for sock in idle:
            assert _request(sock) == b"HTTP/1.1 200 OK"
        half.sendall(b"POST /__admin/reset HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n")
        time.sleep(0.2)  # the loop has read the partial request
        assert kept.quiesce()
        assert _closed(half)
        still_open = [sock for sock in idle if _request(sock) == b"HTTP/1.1 200 OK"]
        assert len(still_open) == KEPT_CONNECTIONS
    finally:
        for sock in [*idle, half]:
            sock.close()


def _config_state(live: LiveMock) -> tuple[list[str], list[dict[str, object]]]:
    with httpx.Client(base_url=live.url) as client:
        users = sorted(u["username"] for u in client.get("/__admin/users").json()["users"])
        workflows = client.get("/__admin/workflows").json()["workflows"]
    return users, sorted(workflows, key=lambda w: str(w["id"]))


CHANGES = {
    "add a user": ("POST", "/__admin/users", {"username": "extra", "api_token": "t" * 16}),
    "replace a user's token": ("POST", "/__admin/users", {"username": USER, "api_token": "x" * 16}),
    "create a workflow": ("POST", "/__admin/workflows", {"name": "W2", "owner": USER}),
    "patch a workflow": ("PATCH", f"/__admin/workflows/{WF}", {"enabled": False}),
    "delete a workflow": ("DELETE", f"/__admin/workflows/{WF}", None),
    "reset everything": ("POST", "/__admin/reset", {"everything": True}),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_restore_brings_back_users_and_workflows_after_any_change(
    kept: LiveMock, change: str
) -> None:
    """A restore after triggers alone keeps the users and workflows (no change to undo); after
    any change to them it applies the config again, whichever way they changed."""
    before = _config_state(kept)
    with httpx.Client(base_url=kept.url) as client:
        assert client.post(TRIGGER, json=PAYLOAD, auth=(USER, TOKEN)).status_code == 202
    assert kept.quiesce()
    kept.restore()  # after a trigger alone: the quick path
    assert _config_state(kept) == before
    method, path, body = CHANGES[change]
    with httpx.Client(base_url=kept.url) as client:
        answer = client.request(method, path, json=body)
        assert answer.status_code < 300, answer.text
    if change != "replace a user's token":  # not listed: the trigger below tells
        assert _config_state(kept) != before
    assert kept.quiesce()
    kept.restore()
    assert _config_state(kept) == before
    with httpx.Client(base_url=kept.url) as client:  # the config's token works again
        assert client.post(TRIGGER, json=PAYLOAD, auth=(USER, TOKEN)).status_code == 202
        assert len(client.get("/__admin/events").json()["events"]) == 1
