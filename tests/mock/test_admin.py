"""The admin API and run records through Flask's test client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from flask import Flask
from support.mock import FIELDS, PAYLOAD, TOKEN, TOKEN_ID, USER, WF, TriggerActions, base_config
from support.paths import WORKFLOWS

import contracts
import mock_qualtrics
from mock_qualtrics import create_app, load_toml
from mock_qualtrics.openapi import document
from mock_qualtrics.state import current_state


def test_exported_members() -> None:
    """The package exports exactly what we mean to."""
    assert set(mock_qualtrics.__all__) == {
        "DEFAULTS",
        "ConfigError",
        "ConnectionDropped",
        "LiveMock",
        "MockAdmin",
        "MockAdminError",
        "Settings",
        "create_app",
        "is_loopback",
        "load_toml",
        "make_server",
    }


def test_factory_defaults() -> None:
    app = create_app()
    try:
        assert app.config["MAX_BODY_BYTES"] == 102_400
        assert app.config["RATE_LIMIT"] == 3_000
        assert app.config["HISTORY_LIMIT"] == 10_000
        assert app.debug is False
        assert app.test_client().get("/__admin/health").get_json() == {"status": "ok"}
    finally:
        current_state(app).store.close()


def test_run_record_validates_against_contract(trigger: TriggerActions) -> None:
    """Succeeded and Failed run records validate against contracts/run-record.schema.json."""
    trigger.post()
    trigger.post(payload={"nothing": True})
    runs = trigger.runs(wait_for=2, timeout=5)
    schema = contracts.load("run-record")
    for run in runs:
        jsonschema.validate(run, schema)
    failed, ok = runs
    assert ok["status"] == "Succeeded"
    assert ok["fields"] == {"email": "dave@example.com", "firstName": "Dave"}
    assert ok["payload"] == PAYLOAD
    assert failed["status"] == "Failed"
    assert "email" in failed["error"]
    assert "$.identityMap.Email[0].id" in failed["error"]


def test_unmatched_optional_field_left_out(trigger: TriggerActions) -> None:
    trigger.post(payload={"identityMap": {"Email": [{"id": "a@b.c"}]}})
    (run,) = trigger.runs(wait_for=1, timeout=5)
    assert run["fields"] == {"email": "a@b.c"}
    assert run["status"] == "Succeeded"


def test_first_match_of_a_wildcard_path(client: Any) -> None:
    client.patch(
        f"/__admin/workflows/{WF}",
        json={"fields": [{"name": "ids", "jsonpath": "$.identityMap.*[*].id", "required": True}]},
    )
    TriggerActions(client).post(payload={"identityMap": {"ECID": [{"id": "1"}, {"id": "2"}]}})
    (run,) = TriggerActions(client).runs(wait_for=1, timeout=5)
    assert run["fields"] == {"ids": "1"}


@pytest.mark.parametrize(
    ("storage", "expected"),
    [
        ("raw", PAYLOAD),
        (
            "redacted",
            {
                "person": {"name": {"firstName": "[redacted]"}},
                "identityMap": {"Email": [{"id": "[redacted]"}]},
            },
        ),
        ("none", None),
    ],
)
def test_payload_storage(make_app: Any, storage: str, expected: Any) -> None:
    t = TriggerActions(make_app(PAYLOAD_STORAGE=storage).test_client())
    t.post()
    (run,) = t.runs(wait_for=1, timeout=5)
    assert run["payload"] == expected
    assert run["fields"]["email"] == "dave@example.com"


def test_runs_are_queued_then_finished(make_app: Any) -> None:
    """With a run delay, a run is first queued, then finished; the long-poll waits for it."""
    t = TriggerActions(make_app(RUN_DELAY=0.2).test_client())
    t.post()
    (queued,) = t.runs()
    assert queued["status"] == "queued"
    assert queued["started_at"] is None
    (done,) = t.runs(wait_for=1, timeout=5)
    assert done["status"] == "Succeeded"
    assert done["finished_at"] >= done["received_at"]


def test_long_poll_times_out(trigger: TriggerActions, client: Any) -> None:
    r = client.get(f"/__admin/workflows/{WF}/runs?wait_for=1&timeout=0.1").get_json()
    assert r == {"runs": [], "timed_out": True}


def test_paging_filters_newest_first(trigger: TriggerActions, client: Any) -> None:
    for i in range(5):
        trigger.post(payload={"identityMap": {"Email": [{"id": f"{i}@x.y"}]}})
    trigger.post(payload={})
    runs = trigger.runs(wait_for=6, timeout=5)
    assert [r["fields"].get("email") for r in runs] == [
        None,
        "4@x.y",
        "3@x.y",
        "2@x.y",
        "1@x.y",
        "0@x.y",
    ]
    page = trigger.runs(limit=2, offset=1)
    assert [r["fields"]["email"] for r in page] == ["4@x.y", "3@x.y"]
    assert len(trigger.runs(status="Failed")) == 1
    assert len(trigger.runs(status="Succeeded", wait_for=5, timeout=1)) == 5
    assert len(trigger.runs(limit=10**9)) == 6  # clamped, never rejected
    one = client.get(f"/__admin/runs/{runs[0]['id']}").get_json()
    assert one == runs[0]
    assert client.get("/__admin/runs/nope").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "timeout=31",
        "timeout=-1",
        "timeout=abc",
        "limit=-1",
        "limit=x",
        "offset=-2",
        "wait_for=-1",
        "status=Done",
    ],
)
def test_bad_run_query_is_400_naming_the_field(client: Any, query: str) -> None:
    r = client.get(f"/__admin/workflows/{WF}/runs?{query}")
    assert r.status_code == 400
    assert r.get_json()["meta"]["error"]["errorMessage"].startswith(query.split("=")[0] + ":")


def test_history_is_bounded(make_app: Any) -> None:
    t = TriggerActions(make_app(HISTORY_LIMIT=3).test_client())
    for i in range(5):
        t.post(payload={"identityMap": {"Email": [{"id": f"{i}"}]}})
    runs = t.runs(limit=100)
    assert [r["fields"]["email"] for r in runs] == ["4", "3", "2"]


def test_workflow_crud(client: Any) -> None:
    created = client.post("/__admin/workflows", json={"name": "N", "owner": USER})
    assert created.status_code == 201
    wf = created.get_json()
    assert wf["trigger_url"] == (
        f"http://localhost/inbound-event/v1/events/json/triggers?urlTokenId={wf['urlTokenId']}"
    )
    assert wf["enabled"] is True
    assert wf["auth_required"] is True
    listed = client.get("/__admin/workflows").get_json()["workflows"]
    assert {w["id"] for w in listed} == {WF, wf["id"]}
    assert client.get(f"/__admin/workflows/{wf['id']}").get_json() == wf
    patched = client.patch(f"/__admin/workflows/{wf['id']}", json={"enabled": False}).get_json()
    assert patched["enabled"] is False
    assert client.delete(f"/__admin/workflows/{wf['id']}").status_code == 204
    assert client.get(f"/__admin/workflows/{wf['id']}").status_code == 404
    assert client.delete(f"/__admin/workflows/{wf['id']}").status_code == 404
    assert client.patch("/__admin/workflows/nope", json={"enabled": False}).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"owner": USER}, "name"),
        ({"name": "n"}, "owner"),
        ({"name": "n", "owner": USER, "enabled": "yes"}, "enabled"),
        (
            {"name": "n", "owner": USER, "fields": [{"name": "a", "jsonpath": "$..["}]},
            "fields[0].jsonpath",
        ),
        ({"name": "n", "owner": USER, "fields": [{"jsonpath": "$.a"}]}, "fields[0].name"),
        (
            {
                "name": "n",
                "owner": USER,
                "fields": [{"name": f"f{i}", "jsonpath": "$.a"} for i in range(11)],
            },
            "fields",
        ),
        ({"name": "n", "owner": USER, "colour": "red"}, "colour"),
        ({"name": "n", "owner": USER, "url_token_id": "nope"}, "url_token_id"),
        ({"name": "n", "owner": USER, "url_token_id": TOKEN_ID, "id": "WF_2"}, "url_token_id"),
        ([], "body"),
    ],
)
def test_workflow_validation_names_the_field(client: Any, body: Any, field: str) -> None:
    r = client.post("/__admin/workflows", json=body)
    assert r.status_code == 400
    assert r.get_json()["meta"]["error"]["errorMessage"].startswith(f"{field}:")


def test_users(client: Any) -> None:
    assert (
        client.post("/__admin/users", json={"username": "n", "api_token": "tok-9f8e"}).status_code
        == 201
    )
    missing = client.post("/__admin/users", json={"username": "n"})
    assert missing.status_code == 400
    assert missing.get_json()["meta"]["error"]["errorMessage"].startswith("api_token:")
    assert {"username": "n"} in client.get("/__admin/users").get_json()["users"]
    assert "tok-9f8e" not in str(client.get("/__admin/users").get_json())


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),  # none of status, delay_ms, drop_connection: the body is incomplete
        ({"status": 99}, "status"),
        ({"count": 0, "status": 500}, "count"),
        ({"probability": 2, "status": 500}, "probability"),
        ({"drop_connection": "yes"}, "drop_connection"),
        ({"bogus": 1}, "bogus"),
        ({"status": 500, "seed": 2**63}, "seed"),
    ],
)
def test_fault_validation_names_the_field(client: Any, body: Any, field: str) -> None:
    r = client.post("/__admin/faults", json=body)
    assert r.status_code == 400, body
    assert r.get_json()["meta"]["error"]["errorMessage"].startswith(f"{field}:")


def test_fault_count_null_is_unlimited(client: Any) -> None:
    """`count: null` is the documented "unlimited" (the soak and the README rely on it)."""
    r = client.post("/__admin/faults", json={"status": 503, "probability": 0.1, "count": None})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["count"] is None


def test_reset(trigger: TriggerActions, client: Any) -> None:
    trigger.post(headers={"Idempotency-Key": "k"})
    client.post("/__admin/faults", json={"status": 500})
    assert client.post("/__admin/reset", json={}).status_code == 200
    assert trigger.runs() == []
    assert trigger.events() == []
    assert trigger.post(headers={"Idempotency-Key": "k"}).status_code == 202  # fault gone
    assert trigger.events()[0]["outcome"] == "accepted"  # key forgotten
    assert client.post("/__admin/reset", json={"everything": True}).status_code == 200
    assert client.get("/__admin/workflows").get_json()["workflows"] == []
    bad = client.post("/__admin/reset", json={"everything": "x"})
    assert bad.status_code == 400
    assert bad.get_json()["meta"]["error"]["errorMessage"].startswith("everything:")


def test_export_ndjson(trigger: TriggerActions, client: Any) -> None:
    trigger.post()
    trigger.runs(wait_for=1, timeout=5)
    r = client.get("/__admin/export")
    assert r.mimetype == "application/x-ndjson"
    records = [orjson.loads(line) for line in r.get_data().splitlines()]
    assert [rec["type"] for rec in records] == ["workflow", "run", "event"]
    assert records[1]["duplicate_of"] is None


def test_admin_token_required_when_set(make_app: Any) -> None:
    c = make_app(ADMIN_TOKEN="s3cret").test_client()
    assert c.get("/__admin/health").status_code == 200
    assert c.get("/__admin/workflows").status_code == 401
    assert c.get("/").status_code == 401
    assert c.get("/__admin/workflows", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = c.get("/__admin/workflows", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    assert TriggerActions(c).post().status_code == 202  # triggers use Qualtrics auth only


def test_file_store_survives_restart(tmp_path: Path) -> None:
    """Runs, users, workflows and idempotency keys (extension on) survive a restart; config
    upserts by id; ``duplicate_of`` finds a run from before the restart."""
    db = str(tmp_path / "mock.db")
    app = create_app(base_config(DATABASE=db, EXTENSION_IDEMPOTENCY_KEYS=True))
    t = TriggerActions(app.test_client())
    first = t.post(headers={"Idempotency-Key": "k"}).get_json()["meta"]["requestId"]
    t.runs(wait_for=1, timeout=5)
    current_state(app).store.close()
    renamed = base_config(
        DATABASE=db,
        EXTENSION_IDEMPOTENCY_KEYS=True,
        USERS=[],
        WORKFLOWS=[
            {"id": WF, "name": "Renamed", "owner": USER, "url_token_id": TOKEN_ID, "fields": FIELDS}
        ],
    )
    app2 = create_app(renamed)
    try:
        t2 = TriggerActions(app2.test_client())
        assert len(t2.runs()) == 1
        assert app2.test_client().get(f"/__admin/workflows/{WF}").get_json()["name"] == "Renamed"
        again = t2.post(token=TOKEN, headers={"Idempotency-Key": "k"})
        assert again.get_json()["meta"]["requestId"] == first
        t2.post(token=TOKEN, headers={"Idempotency-Key": "other"})
        newest, oldest = t2.runs(wait_for=2, timeout=5)
        assert newest["duplicate_of"] == oldest["id"]  # same body bytes as before the restart
    finally:
        current_state(app2).store.close()


def test_toml_config(tmp_path: Path) -> None:
    config = load_toml(WORKFLOWS)
    assert config["USERS"][0]["username"] == "cx-team@example.com"
    app = create_app(config)
    try:
        wfs = app.test_client().get("/__admin/workflows").get_json()["workflows"]
        fields = {f["name"]: f["jsonpath"] for f in wfs[1]["fields"]} | {
            f["name"]: f["jsonpath"] for f in wfs[0]["fields"]
        }
        assert fields["external_id"] == "$.identityMap.ECID[0].id"
        assert fields["mobilePhone.number"] == "$.mobilePhone.number"
    finally:
        current_state(app).store.close()
    bad = tmp_path / "bad.toml"
    bad.write_text("[limits]\nnope = 1\n")
    with pytest.raises(mock_qualtrics.ConfigError, match=r"limits\.nope"):
        load_toml(bad)


def test_openapi_matches_routes(app: Flask) -> None:
    """Every admin route is in the OpenAPI document, and nothing else is."""
    doc = document()
    assert doc["openapi"].startswith("3.1")
    declared = {
        (path, method.upper())
        for path, item in doc["paths"].items()
        for method in item
        if method != "parameters"
    }
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/__admin"):
            path = rule.rule.replace("<", "{").replace(">", "}")
            routed |= {(path, m) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    assert declared == routed
    runs = doc["paths"]["/__admin/workflows/{workflow_id}/runs"]["get"]["parameters"]
    timeout = next(p for p in runs if p["name"] == "timeout")
    assert timeout["schema"]["maximum"] == 30
    served = app.test_client().get("/__admin/openapi.json").get_json()
    assert served == orjson.loads(orjson.dumps(doc))


def test_events_shape(trigger: TriggerActions) -> None:
    trigger.post(token="bad")
    (event,) = trigger.events()
    assert set(event) == {
        "requestId",
        "received_at",
        "workflow_id",
        "status_code",
        "outcome",
        "idempotency_key",
    }
    assert event["status_code"] == 401
    assert event["workflow_id"] == WF
