"""``--allow-mock-host NAME``: ``send``, ``test-destination`` and ``certify --mock`` reach a mock
by a service name over plain http, and nothing else opens.

A CI job reaches its service container as ``http://qualtrics-mock:8080``. Here the name
``qualtrics-mock`` is resolved to 127.0.0.1 by an injected resolver (``socket.getaddrinfo``
patched for that one name), so the test needs no ``/etc/hosts`` entry and reaches no host but
127.0.0.1; everything above the resolver (the URL guard, httpx, the mock's Host rule and the
trigger URL it builds from ``Host``) runs as in CI.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.activations import activation_with_url
from support.cli import qharness_text
from support.destination import FIELDS, TOKEN, URL_TOKEN_ID, USER
from support.profiles import jsonl, profiles

from mock_qualtrics import LiveMock
from mock_qualtrics.client import MockAdmin

NAME = "qualtrics-mock"
ADMIN_TOKEN = "allow-mock-host-admin-token-0123"


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """``qualtrics-mock`` resolves to 127.0.0.1; every other name as before."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == NAME else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def service(resolver: None) -> Iterator[tuple[str, dict[str, Any]]]:
    """A mock as a CI service runs it (an admin token, answering Host ``qualtrics-mock``), and a
    workflow created through its service name, so that its trigger URL names the service."""
    config = {"ADMIN_TOKEN": ADMIN_TOKEN, "PUBLIC_HOSTS": (NAME,)}
    with LiveMock(config) as live:
        url = f"http://{NAME}:{live.port}"
        admin = MockAdmin(url, admin_token=ADMIN_TOKEN)
        try:
            admin.add_user(USER, TOKEN)
            yield url, admin.create_workflow("CI service", owner=USER, fields=FIELDS)
        finally:
            admin.close()


def _runs(url: str, workflow_id: str, count: int) -> list[dict[str, Any]]:
    admin = MockAdmin(url, admin_token=ADMIN_TOKEN)
    try:
        return admin.wait_for_runs(workflow_id, count, timeout=10)
    finally:
        admin.close()


def test_the_trigger_url_names_the_service(service: tuple[str, dict[str, Any]]) -> None:
    """The mock hands out the URL a job's sender uses: its service name and port, plain http."""
    url, workflow = service
    assert workflow["trigger_url"].startswith(f"{url}/inbound-event/v1/events/json/triggers?")


def test_send_delivers_to_a_mock_reached_by_its_service_name(
    tmp_path: Path, service: tuple[str, dict[str, Any]]
) -> None:
    """With --allow-mock-host the events reach the mock by name: exit 0, one run each."""
    url, workflow = service
    activation = activation_with_url(tmp_path, workflow["trigger_url"])
    data = jsonl(tmp_path / "p.jsonl", profiles(3))
    code, _, err = qharness_text(
        "send", str(activation), str(data), "--state", str(tmp_path / "s"),
        "--allow-mock-host", NAME, env={"QUALTRICS_API_TOKEN": TOKEN},
    )  # fmt: skip
    assert code == 0, err
    runs = _runs(url, workflow["id"], 3)
    assert [r["status"] for r in runs] == ["Succeeded"] * 3


def test_test_destination_takes_the_flag_too(
    tmp_path: Path, service: tuple[str, dict[str, Any]]
) -> None:
    """test-destination sends its sample profiles to the named mock: exit 0."""
    _, workflow = service
    activation = activation_with_url(tmp_path, workflow["trigger_url"])
    code, out, err = qharness_text(
        "test-destination", str(activation), "--count", "2", "--allow-mock-host", NAME,
        env={"QUALTRICS_API_TOKEN": TOKEN},
    )  # fmt: skip
    assert code == 0, err
    assert '"code": 202' in out


@pytest.mark.parametrize("flags", [[], ["--allow-http-loopback"], ["--allow-mock-host", "other"]])
@pytest.mark.parametrize("command", ["send", "test-destination"])
def test_without_the_name_the_guard_stays_closed(
    tmp_path: Path, service: tuple[str, dict[str, Any]], command: str, flags: list[str]
) -> None:
    """Not naming the host (or naming another): exit 2, the message names the flag, nothing
    reaches the mock and the urlTokenId is not shown."""
    url, workflow = service
    activation = activation_with_url(tmp_path, workflow["trigger_url"])
    data = jsonl(tmp_path / "p.jsonl", profiles(1))
    code, _, err = qharness_text(
        command, str(activation), str(data), *flags, env={"QUALTRICS_API_TOKEN": TOKEN}
    )
    assert code == 2
    assert "--allow-mock-host NAME" in err
    assert workflow["urlTokenId"] not in err
    assert _runs(url, workflow["id"], 0) == []


@pytest.mark.parametrize("name", ["iad1.qualtrics.com", "mock:8080", "*"])
def test_a_name_that_is_a_qualtrics_host_or_no_host_is_a_usage_error(
    tmp_path: Path, name: str
) -> None:
    """Exit 2 naming the option and the value, before anything is read or sent."""
    code, _, err = qharness_text(
        "send", str(tmp_path / "missing.toml"), "-", "--allow-mock-host", name
    )
    assert code == 2
    assert "--allow-mock-host" in err
    assert repr(name) in err
    assert URL_TOKEN_ID not in err


def test_certify_against_a_mock_reached_by_its_service_name(
    service: tuple[str, dict[str, Any]],
) -> None:
    """certify --mock http://qualtrics-mock:PORT passes with the flag; without it, exit 2 before
    any work, naming the flag."""
    url, _ = service
    env = {"QHARNESS_MOCK_ADMIN_TOKEN": ADMIN_TOKEN}
    args = ["certify", "--mock", url, "--examples", "5", "--seed", "1"]
    code, out, err = qharness_text(*args, env=env)
    assert code == 2
    assert "needs --allow-mock-host NAME; nothing was run" in err
    assert out == ""
    code, out, err = qharness_text(*args, "--allow-mock-host", NAME, env=env)
    assert code == 0, out + err
    assert out.splitlines()[-1].startswith("certification passed")
