"""The pytest plugin's ``mock_qualtrics`` fixture (installed through the pytest11 entry point)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from connector.plugin import MockQualtrics

FIELDS = [{"name": "email", "jsonpath": "$.identityMap.Email[0].id", "required": True}]
PAYLOAD = {"identityMap": {"Email": [{"id": "a@example.com"}]}}


def test_fixture_helpers(mock_qualtrics: MockQualtrics) -> None:
    """add_user, create_workflow, runs (long-poll), events, inject_fault and reset."""
    assert mock_qualtrics.url.startswith("http://127.0.0.1:")
    mock_qualtrics.add_user("u@example.com", "tok")
    wf = mock_qualtrics.create_workflow("W", "u@example.com", fields=FIELDS)
    assert {"id", "trigger_url", "urlTokenId"} <= set(wf)
    mock_qualtrics.inject_fault(status=429, retry_after=1)
    first = httpx.post(wf["trigger_url"], json=PAYLOAD, auth=("u@example.com", "tok"))
    assert first.status_code == 429
    second = httpx.post(wf["trigger_url"], json=PAYLOAD, auth=("u@example.com", "tok"))
    assert second.status_code == 202
    (run,) = mock_qualtrics.runs(wf["id"], wait_for=1)
    assert run["status"] == "Succeeded"
    assert run["fields"] == {"email": "a@example.com"}
    assert mock_qualtrics.runs(wf["id"], status="Failed") == []
    assert [e["outcome"] for e in mock_qualtrics.events()] == ["accepted", "fault"]
    mock_qualtrics.reset()
    assert mock_qualtrics.events() == []
    assert mock_qualtrics.runs(wf["id"]) == []


def test_fixture_is_fresh_per_test(mock_qualtrics: MockQualtrics) -> None:
    assert mock_qualtrics.events() == []
    with pytest.raises(AssertionError, match="owner"):
        mock_qualtrics.create_workflow("W", "")


def test_plugin_in_a_user_project(tmp_path: Path) -> None:
    """A project with no conftest gets the fixture from the installed plugin."""
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
        import httpx

        def test_it(mock_qualtrics):
            mock_qualtrics.add_user("u", "t")
            wf = mock_qualtrics.create_workflow("W", "u", enabled=False)
            r = httpx.post(wf["trigger_url"], json={}, headers={"X-API-TOKEN": "t"})
            assert r.status_code == 202
            assert mock_qualtrics.runs(wf["id"]) == []
            assert mock_qualtrics.events()[0]["outcome"] == "disabled"
        """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
