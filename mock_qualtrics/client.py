"""A small client for the mock's admin API, over real HTTP (any running mock, embedded or not).

Every refusal raises :class:`MockAdminError`, whose message says what failed and where; its users
decide what that means: ``qharness runs`` and certification map it to a usage error (exit 2), the
pytest plugin's ``mock_qualtrics`` fixture to a test failure. State-changing calls send
``Content-Type: application/json`` (an empty body is ``{}``), the only kind the admin API accepts
for them, so that no cross-site form can change a mock.

The URL may name any server (``--mock URL``), so nothing in an answer is trusted: a body that is
not JSON, nests too deep to parse, or lacks the shape a call needs (a run that breaks the
``run-record`` contract, a workflow without its ``id``) raises ``MockAdminError`` saying so, never
a ``KeyError`` from deep inside a caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import httpx
from jsonschema import Draft7Validator
from jsonschema.exceptions import best_match

import contracts

__all__ = ["MockAdmin", "MockAdminAuthError", "MockAdminError"]


class MockAdminError(Exception):
    """A mock's admin API could not be reached or refused a call; the message says which."""


class MockAdminAuthError(MockAdminError):
    """The mock has an admin token and this client sent none, or the wrong one (401): a caller
    that knows where the token comes from adds how to set it."""


class MockAdmin:
    """``/__admin/`` of the mock at ``url``: users, workflows, runs (long-poll), journal, faults."""

    #: What a refused or failed call raises.
    failure: type[Exception] = MockAdminError

    def __init__(
        self,
        url: str,
        *,
        admin_token: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(45.0, connect=5.0),
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def close(self) -> None:
        self._http.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (a closed client refuses every call)."""
        return self._http.is_closed

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        if method in ("POST", "PATCH", "PUT") and "json" not in kwargs:
            kwargs["json"] = {}
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise self.failure(
                f"cannot reach the mock at {self.url}: {type(exc).__name__}: {exc}"
            ) from None
        if response.status_code == 401 and path.startswith("/__admin/"):
            wants = f"the mock at {self.url} wants its admin token for {path}"
            if self.failure is MockAdminError:
                raise MockAdminAuthError(wants)
            raise self.failure(wants)
        if response.status_code >= 400:
            try:
                message = response.json()["meta"]["error"]["errorMessage"]
            except (ValueError, KeyError, TypeError, IndexError, RecursionError):
                message = None
            if not isinstance(message, str):
                message = response.text
            raise self.failure(
                f"the mock at {self.url} answered {response.status_code} to {method} {path}: "
                f"{message[:300]}"
            )
        if not response.content:
            return None
        try:
            return response.json()
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's stack
            raise self.failure(
                f"{self.url} does not look like a Qualtrics mock: its answer to {method} {path} "
                "is not JSON"
            ) from None

    def _shape(self, answer: Any, what: str, path: str) -> Any:
        """``answer`` if it is an object with the keys ``what`` names (``key:type`` pairs)."""
        wanted = [item.split(":") for item in what.split()]
        if isinstance(answer, dict) and all(
            isinstance(answer.get(key), _TYPES[kind]) for key, kind in wanted
        ):
            return answer
        shown = ", ".join(f"{key!r} ({_TYPES[kind].__name__})" for key, kind in wanted)
        raise self.failure(
            f"{self.url} does not look like a Qualtrics mock: its answer to {path} "
            f"lacks {shown}: {str(answer)[:100]}"
        )

    def _objects(self, answer: Any, key: str, path: str, item: str = "") -> list[dict[str, Any]]:
        """``answer[key]``, a list of objects (each with ``item``'s keys, see ``_shape``)."""
        listed = self._shape(answer, f"{key}:list", path)[key]
        return [self._shape(entry, item, path) for entry in listed]

    def _runs(self, answer: Any, path: str) -> list[dict[str, Any]]:
        """``answer["runs"]``, each run checked against the ``run-record`` contract."""
        runs = self._objects(answer, "runs", path)
        for run in runs:
            error = best_match(_run_record().iter_errors(run))
            if error is not None:
                where = "".join(f"[{p!r}]" for p in error.absolute_path) or "(the run)"
                raise self.failure(
                    f"{self.url} does not look like a Qualtrics mock: a run in its answer to "
                    f"{path} breaks the run-record contract at {where}: {error.message[:200]}"
                )
        return runs

    def health(self) -> None:
        self._call("GET", "/__admin/health")

    def add_user(self, username: str, api_token: str) -> None:
        """Create (or replace) a user whose API token is ``api_token``."""
        self._call("POST", "/__admin/users", json={"username": username, "api_token": api_token})

    def workflows(self) -> list[dict[str, Any]]:
        path = "/__admin/workflows"
        return self._objects(self._call("GET", path), "workflows", path, _WORKFLOW)

    def workflow(self, workflow_id: str) -> dict[str, Any]:
        path = f"/__admin/workflows/{workflow_id}"
        workflow: dict[str, Any] = self._shape(self._call("GET", path), _WORKFLOW, path)
        return workflow

    def create_workflow(
        self,
        name: str,
        owner: str,
        fields: Sequence[dict[str, Any]] | None = None,
        enabled: bool = True,
        auth_required: bool = True,
        *,
        workflow_id: str | None = None,
        url_token_id: str | None = None,
    ) -> dict[str, Any]:
        """Create a workflow; returns the admin API's answer (``id``, ``trigger_url``, ...).

        ``workflow_id`` and ``url_token_id`` fix what the mock would generate, so that a CI
        recipe can give its sender a trigger URL known before the mock starts."""
        body: dict[str, Any] = {
            "name": name,
            "owner": owner,
            "enabled": enabled,
            "auth_required": auth_required,
            "fields": list(fields or []),
        }
        if workflow_id is not None:
            body["id"] = workflow_id
        if url_token_id is not None:
            body["url_token_id"] = url_token_id
        path = "/__admin/workflows"
        answer = self._call("POST", path, json=body)
        workflow: dict[str, Any] = self._shape(answer, f"{_WORKFLOW} trigger_url:str", path)
        return workflow

    def runs_page(
        self,
        workflow_id: str,
        *,
        wait_for: int = 0,
        timeout: float = 0,
        status: str | None = None,
        limit: int = 1000,
        before: str | None = None,
    ) -> tuple[list[dict[str, Any]], bool]:
        """The workflow's runs (newest first) and whether the long-poll timed out; with
        ``before`` (a run id, the last of the previous page), only runs older than that one."""
        params: dict[str, Any] = {"wait_for": wait_for, "timeout": min(timeout, 30), "limit": limit}
        if status is not None:
            params["status"] = status
        if before is not None:
            params["before"] = before
        path = f"/__admin/workflows/{workflow_id}/runs"
        answer = self._call("GET", path, params=params)
        return self._runs(answer, path), bool(answer.get("timed_out", False))

    def all_runs(self, *, status: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Every workflow's runs, deleted workflows' included, newest first."""
        params: dict[str, Any] = {"limit": limit}
        if status is not None:
            params["status"] = status
        return self._runs(self._call("GET", "/__admin/runs", params=params), "/__admin/runs")

    def delete_workflow(self, workflow_id: str) -> None:
        """Delete a workflow; its runs are kept (shown as "Deleted Workflow")."""
        self._call("DELETE", f"/__admin/workflows/{workflow_id}")

    def wait_for_runs(
        self, workflow_id: str, count: int, *, timeout: float = 30.0
    ) -> list[dict[str, Any]]:
        """Long-poll until ``count`` runs finished (or ``timeout``); the runs either way."""
        runs, _ = self.runs_page(workflow_id, wait_for=count, timeout=timeout)
        return runs

    def events(self, workflow_id: str | None = None) -> list[dict[str, Any]]:
        """The event journal (every trigger attempt), newest first; one workflow's if asked."""
        params: dict[str, Any] = {"limit": 1000}
        path = "/__admin/events"
        if workflow_id is None:
            return self._objects(self._call("GET", path, params=params), "events", path)
        params["workflow_id"] = workflow_id
        events = self._objects(self._call("GET", path, params=params), "events", path)
        return [e for e in events if e.get("workflow_id") in (workflow_id, None)]

    def behaviours(self) -> list[dict[str, Any]]:
        """``GET /__admin/behaviours``: every behaviour with its value and source."""
        return list(self._call("GET", "/__admin/behaviours"))

    def inject_fault(self, **fault: Any) -> dict[str, Any]:
        """Queue a fault: ``status``, ``retry_after``, ``delay_ms``, ``drop_connection``,
        ``count``, ``probability``, ``seed``, ``workflow_id``."""
        answer: dict[str, Any] = self._call("POST", "/__admin/faults", json=fault)
        return answer

    def clear_faults(self) -> None:
        self._call("DELETE", "/__admin/faults")

    def reset(self) -> None:
        """Forget runs, journal, faults and counters (users and workflows stay)."""
        self._call("POST", "/__admin/reset", json={})


#: ``_shape``'s type names.
_TYPES: dict[str, type] = {"str": str, "list": list}
#: What every workflow in an answer has.
_WORKFLOW = "id:str name:str"


@cache
def _run_record() -> Draft7Validator:
    return Draft7Validator(contracts.load("run-record"))
