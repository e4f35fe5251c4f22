"""A small client for the mock's admin API, over real HTTP (any running mock, embedded or not)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from ..errors import UsageError

__all__ = ["MockAdmin"]


class MockAdmin:
    """``/__admin/`` of the mock at ``url``: users, workflows, runs (long-poll), journal, faults."""

    def __init__(self, url: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url, timeout=httpx.Timeout(40.0, connect=5.0), transport=transport
        )

    def __repr__(self) -> str:
        return f"MockAdmin({self.url!r})"

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise UsageError(
                f"cannot reach the mock at {self.url}: {type(exc).__name__}: {exc}"
            ) from None
        if response.status_code >= 400:
            raise UsageError(
                f"the mock at {self.url} answered {response.status_code} to {method} {path}: "
                f"{response.text[:300]}"
            )
        return response.json() if response.content else None

    def health(self) -> None:
        self._call("GET", "/__admin/health")

    def add_user(self, username: str, api_token: str) -> None:
        self._call("POST", "/__admin/users", json={"username": username, "api_token": api_token})

    def create_workflow(
        self, name: str, owner: str, fields: Sequence[dict[str, Any]]
    ) -> dict[str, Any]:
        body = {
            "name": name,
            "owner": owner,
            "enabled": True,
            "auth_required": True,
            "fields": list(fields),
        }
        workflow: dict[str, Any] = self._call("POST", "/__admin/workflows", json=body)
        return workflow

    def runs(
        self, workflow_id: str, *, wait_for: int = 0, timeout: float = 0
    ) -> tuple[list[dict[str, Any]], bool]:
        """The workflow's runs, after ``wait_for`` have finished or ``timeout`` seconds passed."""
        params = {"wait_for": wait_for, "timeout": min(timeout, 30), "limit": 1000}
        answer = self._call("GET", f"/__admin/workflows/{workflow_id}/runs", params=params)
        return list(answer["runs"]), bool(answer.get("timed_out", False))

    def wait_for_runs(
        self, workflow_id: str, count: int, *, timeout: float = 30.0
    ) -> list[dict[str, Any]]:
        """Long-poll until ``count`` runs finished (or ``timeout``); the runs either way."""
        runs, _ = self.runs(workflow_id, wait_for=count, timeout=timeout)
        return runs

    def events(self, workflow_id: str) -> list[dict[str, Any]]:
        answer = self._call(
            "GET", "/__admin/events", params={"workflow_id": workflow_id, "limit": 1000}
        )
        return [e for e in answer["events"] if e.get("workflow_id") in (workflow_id, None)]

    def inject_fault(self, **fault: Any) -> None:
        self._call("POST", "/__admin/faults", json=fault)

    def clear_faults(self) -> None:
        self._call("DELETE", "/__admin/faults")
