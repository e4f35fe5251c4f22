"""The pytest plugin: a ``mock_qualtrics`` fixture giving any test a live Qualtrics mock.

Installed with the package (entry point ``pytest11``), so no conftest is needed. Each test gets a
fresh mock on a free 127.0.0.1 port (bound to port 0, the port read back, so parallel workers never
race), with no run delay; the helpers talk to its admin API over real HTTP with httpx.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:  # imported when a test asks for the fixture, not when pytest starts
    from mock_qualtrics import LiveMock  # (so coverage, started after plugins load, sees it)

__all__ = ["MockQualtrics", "mock_qualtrics"]


class MockQualtrics:
    """A live mock and helpers for its admin API."""

    def __init__(self, live: LiveMock) -> None:
        self._live = live
        self.url: str = live.url
        self._http = httpx.Client(base_url=live.url, timeout=httpx.Timeout(45.0))

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                message = response.json()["meta"]["error"]["errorMessage"]
            except (ValueError, KeyError, TypeError):
                message = response.text
            raise AssertionError(
                f"mock admin API: {method} {path} answered {response.status_code}: {message}"
            )
        return response

    def add_user(self, username: str, api_token: str) -> None:
        """Create (or replace) a user whose API token is ``api_token``."""
        self._call("POST", "/__admin/users", json={"username": username, "api_token": api_token})

    def create_workflow(
        self,
        name: str,
        owner: str,
        fields: Sequence[dict[str, Any]] | None = None,
        enabled: bool = True,
        auth_required: bool = True,
    ) -> dict[str, Any]:
        """Create a workflow; returns the admin API's answer (``id``, ``trigger_url``, ...)."""
        body = {
            "name": name,
            "owner": owner,
            "fields": list(fields or []),
            "enabled": enabled,
            "auth_required": auth_required,
        }
        workflow: dict[str, Any] = self._call("POST", "/__admin/workflows", json=body).json()
        return workflow

    def runs(
        self, workflow_id: str, wait_for: int = 0, timeout: float = 10, status: str | None = None
    ) -> list[dict[str, Any]]:
        """The workflow's run records, newest first; with ``wait_for``, after that many finished
        (or ``timeout`` seconds: check the count)."""
        params: dict[str, Any] = {"wait_for": wait_for, "timeout": min(timeout, 30)}
        if status is not None:
            params["status"] = status
        answer = self._call("GET", f"/__admin/workflows/{workflow_id}/runs", params=params).json()
        runs: list[dict[str, Any]] = answer["runs"]
        return runs

    def events(self) -> list[dict[str, Any]]:
        """The event journal (every trigger attempt), newest first."""
        events: list[dict[str, Any]] = self._call("GET", "/__admin/events").json()["events"]
        return events

    def inject_fault(self, **fault: Any) -> dict[str, Any]:
        """Queue a fault: ``status``, ``retry_after``, ``delay_ms``, ``drop_connection``,
        ``count``, ``probability``, ``seed``, ``workflow_id``."""
        answer: dict[str, Any] = self._call("POST", "/__admin/faults", json=fault).json()
        return answer

    def clear_faults(self) -> None:
        self._call("DELETE", "/__admin/faults")

    def reset(self) -> None:
        """Forget runs, journal, faults and counters (users and workflows stay)."""
        self._call("POST", "/__admin/reset")

    def close(self) -> None:
        self._http.close()


@pytest.fixture
def mock_qualtrics() -> Iterator[MockQualtrics]:
    """A live Qualtrics mock on a free 127.0.0.1 port, fresh for this test, run delay 0."""
    from mock_qualtrics import LiveMock

    with LiveMock({"RUN_DELAY": 0}) as live:
        helper = MockQualtrics(live)
        try:
            yield helper
        finally:
            helper.close()
