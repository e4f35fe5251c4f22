"""The ``mock_qualtrics`` fixture reuses one live mock per configuration, yet each test sees a
fresh one: whatever a test leaves behind (users, workflows, runs, journal, faults, a lockout, an
empty rate-limit bucket, an Idempotency-Key) is gone for the next, and an open connection does
not matter to it (half a request is closed, an idle one is kept, as a server would), in one
process and under pytest-xdist.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROJECT = r'''
import httpx, pytest

FIELDS = [{"name": "email", "jsonpath": "$.identityMap.Email[0].id", "required": True}]
PAYLOAD = {"identityMap": {"Email": [{"id": "a@example.com"}]}}
HELD = []  # connections a test leaves open


def _fresh_then_dirty(mock, burst):
    """Assert the mock is fresh, then leave every kind of state behind."""
    with open("urls.txt", "a") as urls:
        urls.write(f"{burst} {mock.url}\n")
    assert mock.workflows() == []
    assert mock.events() == []
    assert mock.all_runs() == []
    wf = mock.create_workflow("W", "u", fields=FIELDS)
    url = wf["trigger_url"]
    assert httpx.post(url, json=PAYLOAD, headers={"X-API-TOKEN": "t"}).status_code == 401
    mock.add_user("u", "t")
    good = {"X-API-TOKEN": "t", "Idempotency-Key": "k"}
    first = httpx.post(url, json=PAYLOAD, headers=good)
    assert first.status_code == 202, first.text  # no fault, no lockout, a full bucket
    assert len(mock.runs(wf["id"], wait_for=1)) == 1  # the key "k" made a run: it was new
    if burst:
        other = {"X-API-TOKEN": "t", "Idempotency-Key": "k2"}
        assert httpx.post(url, json=PAYLOAD, headers=other).status_code == 429
    for _ in range(12):  # lock this client out
        httpx.post(url, json=PAYLOAD, headers={"X-API-TOKEN": "wrong"})
    mock.inject_fault(status=500, count=100)
    client = httpx.Client()
    client.get(mock.url + "/__admin/health")
    HELD.append(client)


@pytest.mark.parametrize("n", range(4))
def test_default(mock_qualtrics, n):
    _fresh_then_dirty(mock_qualtrics, burst=False)


@pytest.mark.mock_qualtrics(
    limits={"rate_limit": 1, "rate_burst": 1}, extensions={"idempotency_keys": True}
)
@pytest.mark.parametrize("n", range(4))
def test_marked(mock_qualtrics, n):
    _fresh_then_dirty(mock_qualtrics, burst=True)
'''


@pytest.mark.slow
@pytest.mark.parametrize("workers", [[], ["-p", "xdist", "-n", "2"]], ids=["serial", "xdist"])
def test_state_left_behind_never_reaches_the_next_test(tmp_path: Path, workers: list[str]) -> None:
    """Each test checks it got a fresh mock, then leaves every kind of state behind."""
    (tmp_path / "test_user.py").write_text(textwrap.dedent(PROJECT))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *workers, "test_user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 passed" in result.stdout
    # The cheap path was taken: one server per configuration in each process (worker).
    lines = (tmp_path / "urls.txt").read_text().splitlines()
    for config in ("False", "True"):
        servers = {line.split()[1] for line in lines if line.split()[0] == config}
        assert 1 <= len(servers) <= (2 if workers else 1), lines


@pytest.mark.slow
def test_a_request_still_running_retires_the_server(tmp_path: Path) -> None:
    """A test ending while its request is still delayed in the mock gets the next test a new
    server: the straggler cannot record into the next test's mock."""
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
        import threading, time, httpx

        URLS = []

        def test_leaves_a_slow_request(mock_qualtrics):
            mock_qualtrics.add_user("u", "t")
            wf = mock_qualtrics.create_workflow("W", "u")
            mock_qualtrics.inject_fault(delay_ms=7000)
            send = lambda: httpx.post(wf["trigger_url"], json={}, headers={"X-API-TOKEN": "t"},
                                      timeout=20)
            threading.Thread(target=send, daemon=True).start()
            time.sleep(1)  # until the request is in the mock, held by the delay
            URLS.append(mock_qualtrics.url)

        def test_next(mock_qualtrics):
            URLS.append(mock_qualtrics.url)
            assert URLS[0] != URLS[1]
            assert mock_qualtrics.events() == []
        """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
