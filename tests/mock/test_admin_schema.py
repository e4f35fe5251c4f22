"""The OpenAPI document is the admin API's one source of input rules, built from the config."""

from __future__ import annotations

from typing import Any

import pytest
from support.mock import USER, WF

import contracts
from mock_qualtrics.openapi import document


def _error(response: Any) -> str:
    assert response.status_code == 400, response.get_data(as_text=True)
    message: str = response.get_json()["meta"]["error"]["errorMessage"]
    return message


def test_url_token_id_is_spelled_as_documented(client: Any) -> None:
    """The document's input is ``url_token_id``; ``urlTokenId`` (the output's name) is refused."""
    schema = document()["components"]["schemas"]["WorkflowInput"]
    assert "urlTokenId" not in schema["properties"]
    assert schema["additionalProperties"] is False
    token = "0d7b5a8e-3f2c-4e61-a1b9-6c4d2e8f7a15"
    r = client.post("/__admin/workflows", json={"name": "n", "owner": USER, "urlTokenId": token})
    assert _error(r) == "urlTokenId: unknown key"
    ok = client.post("/__admin/workflows", json={"name": "n", "owner": USER, "url_token_id": token})
    assert ok.status_code == 201
    assert ok.get_json()["urlTokenId"] == token


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/__admin/users", {"username": " ", "api_token": "t"}, "username"),
        ("post", "/__admin/users", {"username": "u", "api_token": ""}, "api_token"),
        ("post", "/__admin/users", {"username": "u", "api_token": "t", "x": 1}, "x"),
        ("post", "/__admin/workflows", {"name": "n", "owner": USER, "id": "a b"}, "id"),
        ("post", "/__admin/workflows", {"name": "x" * 201, "owner": USER}, "name"),
        (
            "post",
            "/__admin/workflows",
            {"name": "n", "owner": USER, "fields": [{"name": "a", "jsonpath": "$.a", "z": 1}]},
            "fields[0].z",
        ),
        (
            "post",
            "/__admin/workflows",
            {"name": "n", "owner": USER, "fields": [{"name": "a", "jsonpath": "$.a"}] * 2},
            "fields[1].name",
        ),
        ("patch", f"/__admin/workflows/{WF}", {"owner": ""}, "owner"),
        ("patch", f"/__admin/workflows/{WF}", {"url_token_id": "x"}, "url_token_id"),
        ("patch", f"/__admin/workflows/{WF}", {"fields": "all"}, "fields"),
        ("post", "/__admin/faults", {"status": 500, "workflow_id": ""}, "workflow_id"),
        ("post", "/__admin/faults", {"status": 500, "delay_ms": 1.5}, "delay_ms"),
        ("post", "/__admin/faults", [], "body"),
        ("get", "/__admin/runs?limit=-1", None, "limit"),
        ("get", "/__admin/runs?status=done", None, "status"),
        ("get", "/__admin/events?offset=x", None, "offset"),
        ("get", f"/__admin/workflows/{WF}/runs?timeout=nan", None, "timeout"),
        ("get", f"/__admin/workflows/{WF}/runs?wait_for={2**53 + 1}", None, "wait_for"),
    ],
)
def test_every_400_names_the_field(
    client: Any, method: str, path: str, body: Any, field: str
) -> None:
    kwargs = {} if body is None else {"json": body}
    message = _error(getattr(client, method)(path, **kwargs))
    assert message.startswith(f"{field}:"), message


def test_document_follows_the_configured_limits(make_app: Any) -> None:
    """Fields per workflow and the long-poll maximum in the document and in the checks."""
    client = make_app(MAX_FIELDS=3, MAX_WAIT_SECONDS=5).test_client()
    served = client.get("/__admin/openapi.json").get_json()
    schemas = served["components"]["schemas"]
    assert schemas["WorkflowInput"]["properties"]["fields"]["maxItems"] == 3
    assert schemas["WorkflowPatch"]["properties"]["fields"]["maxItems"] == 3
    runs = served["paths"]["/__admin/workflows/{workflow_id}/runs"]["get"]["parameters"]
    assert next(p for p in runs if p["name"] == "timeout")["schema"]["maximum"] == 5
    four = [{"name": f"f{i}", "jsonpath": "$.a"} for i in range(4)]
    r = client.post("/__admin/workflows", json={"name": "n", "owner": USER, "fields": four})
    assert _error(r).startswith("fields:")
    r = client.post("/__admin/workflows", json={"name": "n", "owner": USER, "fields": four[:3]})
    assert r.status_code == 201
    assert _error(client.get(f"/__admin/workflows/{WF}/runs?timeout=5.5")).startswith("timeout:")
    assert client.get(f"/__admin/workflows/{WF}/runs?timeout=5").status_code == 200


def test_run_schema_is_the_run_record_contract() -> None:
    """A run in the document is the run-record contract, embedded rather than restated."""
    contract = contracts.load("run-record")
    schemas = document()["components"]["schemas"]
    run = schemas["Run"]
    assert run["required"] == contract["required"]
    assert run["properties"]["requestId"] == contract["properties"]["requestId"]
    assert run["properties"]["received_at"] == {"$ref": "#/components/schemas/Timestamp"}
    assert schemas["Timestamp"] == contract["definitions"]["timestamp"]


def test_a_token_is_never_echoed_in_a_400(client: Any) -> None:
    """Messages say the rule broken, never the string that broke it (it may be a token)."""
    secret = "tok-" + "s" * 300
    message = _error(client.post("/__admin/users", json={"username": "u", "api_token": secret}))
    assert message == "api_token: must be at most 200 characters"
    message = _error(client.post("/__admin/users", json={"username": "u", "api_token": 7}))
    assert message == "api_token: must be a string"


def test_the_config_file_is_checked_against_the_same_schemas(make_app: Any) -> None:
    """A workflows table breaks the same rule the same way as a body, its index in front."""
    from mock_qualtrics.workflows import ValidationError

    many = [{"name": f"a{i}", "jsonpath": "$.a"} for i in range(3)]
    with pytest.raises(ValidationError, match=r"^workflows\[0\]\.fields: at most 2 items, got 3$"):
        make_app(MAX_FIELDS=2, WORKFLOWS=[{"name": "n", "owner": USER, "fields": many}])
    with pytest.raises(ValidationError, match=r"^users\[0\]\.extra: unknown key$"):
        make_app(USERS=[{"username": "u", "api_token": "t", "extra": 1}])
