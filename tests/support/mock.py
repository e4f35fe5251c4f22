"""The mock's test set-up: an app config with two users and one workflow, and a trigger client."""

from __future__ import annotations

import base64
from typing import Any

import orjson
from flask.testing import FlaskClient

__all__ = [
    "FIELDS",
    "OTHER",
    "OTHER_TOKEN",
    "PAYLOAD",
    "TOKEN",
    "TOKEN_ID",
    "USER",
    "WF",
    "TriggerActions",
    "base_config",
    "basic",
]

USER = "owner@example.com"
TOKEN = "owner-token"
OTHER = "other@example.com"
OTHER_TOKEN = "other-token"
TOKEN_ID = "5f0c6c0e-8a47-4c1b-9d52-0b7c2a61d9e3"
WF = "WF_test"
FIELDS = [
    {"name": "email", "jsonpath": "$.identityMap.Email[0].id", "required": True},
    {"name": "firstName", "jsonpath": "$.person.name.firstName", "required": False},
]
PAYLOAD = {
    "person": {"name": {"firstName": "Dave"}},
    "identityMap": {"Email": [{"id": "dave@example.com"}]},
}


def base_config(**overrides: Any) -> dict[str, Any]:
    """The mock's config for a test: no run delay, two users, ``WF``; ``overrides`` on top."""
    config: dict[str, Any] = {
        "RUN_DELAY": 0,
        # Room for the concurrency tests' bursts; tests of the rate limit set their own bucket.
        "RATE_BURST": 100_000,
        "USERS": [
            {"username": USER, "api_token": TOKEN},
            {"username": OTHER, "api_token": OTHER_TOKEN},
        ],
        "WORKFLOWS": [
            {
                "id": WF,
                "name": "Test workflow",
                "owner": USER,
                "url_token_id": TOKEN_ID,
                "fields": FIELDS,
            },
        ],
    }
    config.update(overrides)
    return config


def basic(username: str, token: str) -> str:
    """An HTTP Basic ``Authorization`` value."""
    return "Basic " + base64.b64encode(f"{username}:{token}".encode()).decode()


class TriggerActions:
    """Posts JSON Events to a Flask test client."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def post(
        self,
        payload: Any = None,
        *,
        token: str | None = TOKEN,
        token_id: str = TOKEN_ID,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        url: str | None = None,
    ) -> Any:
        all_headers = {"Content-Type": "application/json"}
        if token is not None:
            all_headers["X-API-TOKEN"] = token
        all_headers.update(headers or {})
        data = body if body is not None else orjson.dumps(PAYLOAD if payload is None else payload)
        target = url or f"/inbound-event/v1/events/json/triggers?urlTokenId={token_id}"
        return self.client.post(target, data=data, headers=all_headers)

    def runs(self, workflow_id: str = WF, **params: Any) -> list[dict[str, Any]]:
        answer = self.client.get(f"/__admin/workflows/{workflow_id}/runs", query_string=params)
        assert answer.status_code == 200, answer.get_json()
        runs: list[dict[str, Any]] = answer.get_json()["runs"]
        return runs

    def events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = self.client.get("/__admin/events").get_json()["events"]
        return events
