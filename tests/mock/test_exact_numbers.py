"""Any valid JSON number is accepted and kept exactly as sent: payload, fields, admin API, export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import example, given, note
from hypothesis import strategies as st
from support.mock import TOKEN_ID, USER, TriggerActions, base_config

from mock_qualtrics import create_app
from mock_qualtrics.state import current_state

FIELDS = [
    {"name": "email", "jsonpath": "$.identityMap.Email[0].id", "required": True},
    {"name": "n", "jsonpath": "$.n", "required": False},
]
WORKFLOW = {"id": "WF_n", "name": "Numbers", "owner": USER, "url_token_id": TOKEN_ID}

#: Every JSON number, as text (RFC 8259 section 6): sign, integer part, fraction, exponent.
numbers = st.from_regex(r"\A-?(0|[1-9][0-9]{0,400})(\.[0-9]{1,40})?([eE][+-]?[0-9]{1,4})?\Z")


def _texts(raw: bytes) -> Any:
    """Parse JSON keeping each number's text, to compare what the mock wrote byte for byte."""
    return json.loads(raw, parse_int=str, parse_float=str)


@pytest.fixture(scope="module")
def client() -> Iterator[FlaskClient]:
    app: Flask = create_app(base_config(WORKFLOWS=[{**WORKFLOW, "fields": FIELDS}]))
    yield app.test_client()
    current_state(app).store.close()


def _send(client: FlaskClient, number: bytes) -> tuple[bytes, dict[str, Any]]:
    body = b'{"identityMap":{"Email":[{"id":"a@example.com"}]},"n":' + number + b"}"
    answer = TriggerActions(client).post(body=body)
    assert answer.status_code == 202, answer.get_json()
    request_id = answer.get_json()["meta"]["requestId"]
    raw = client.get("/__admin/workflows/WF_n/runs", query_string={"limit": 1}).data
    (run,) = _texts(raw)["runs"]
    assert run["requestId"] == request_id
    return raw, run


@given(number=numbers)
@example(number="1" + "0" * 999)  # a 1,000-digit integer
@example(number=str(2**64))
@example(number="1e400")
@example(number="1.50")
@example(number="-0")
@example(number="-0.0e-0")
@example(number="9" * 5000)  # past Python's int-from-text limit
def test_any_json_number_is_kept_exactly(client: FlaskClient, number: str) -> None:
    """The run's payload and extracted field carry the number's text unchanged."""
    note(f"number={number!r}")
    raw, run = _send(client, number.encode())
    assert run["status"] == "Succeeded", run["error"]
    assert run["fields"]["n"] == number
    assert run["payload"]["n"] == number
    assert b'"n":' + number.encode() + b"}" in raw  # the payload, byte for byte


def test_one_run_and_the_export_keep_the_text(client: FlaskClient) -> None:
    """GET /__admin/runs/{id}, GET /__admin/runs and the export write the digits that were sent."""
    big = "123456789012345678901234567890"
    _, run = _send(client, big.encode())
    one = client.get(f"/__admin/runs/{run['id']}").data
    assert _texts(one)["fields"]["n"] == big
    every = _texts(client.get("/__admin/runs", query_string={"limit": 1}).data)["runs"]
    assert (every[0]["fields"]["n"], every[0]["payload"]["n"]) == (big, big)
    floats = _send(client, b"1e400")[1]["id"]
    listed = _texts(client.get("/__admin/runs", query_string={"limit": 1}).data)["runs"]
    assert (listed[0]["id"], listed[0]["fields"]["n"]) == (floats, "1e400")
    lines = [_texts(line) for line in client.get("/__admin/export").data.splitlines()]
    exported = next(r for r in lines if r.get("id") == run["id"])
    assert (exported["fields"]["n"], exported["payload"]["n"]) == (big, big)


def test_ui_shows_exact_numbers(client: FlaskClient) -> None:
    """The run page shows 1.50 as 1.50 (Jinja's tojson would show 1.5)."""
    _, run = _send(client, b"1.50")
    page = client.get(f"/runs/{run['id']}").get_data(as_text=True)
    assert "<code>1.50</code>" in page


@pytest.mark.parametrize(
    "body",
    [b"NaN", b"Infinity", b"-Infinity", b'{"a":01}', b'{"a":1.}', b'"\\ud800"', b"\xff"],
)
def test_what_is_not_json_stays_refused(client: FlaskClient, body: bytes) -> None:
    """Keeping numbers exact does not widen what counts as JSON."""
    answer = TriggerActions(client).post(body=body)
    assert answer.status_code == 400
    assert answer.get_json()["meta"]["error"]["errorCode"] == "INVALID_JSON"


@pytest.mark.parametrize(("value", "shown"), [(None, "is null"), ("", 'is an empty string ("")')])
def test_required_field_null_or_empty_fails_the_run(value: Any, shown: str) -> None:
    """A required field whose value is null or "" gives Qualtrics nothing usable: the run fails."""
    app = create_app(base_config())
    try:
        t = TriggerActions(app.test_client())
        assert t.post({"identityMap": {"Email": [{"id": value}]}}).status_code == 202
        (run,) = t.runs(wait_for=1, timeout=5)
        assert run["status"] == "Failed"
        assert run["error"] == f"required field 'email' ($.identityMap.Email[0].id) {shown}"
        assert run["fields"] == {"email": value}
        # An optional field with the same value is kept and does not fail the run.
        assert (
            t.post(
                {
                    "identityMap": {"Email": [{"id": "a@example.com"}]},
                    "person": {"name": {"firstName": value}},
                }
            ).status_code
            == 202
        )
        assert t.runs(wait_for=2, timeout=5)[0]["status"] == "Succeeded"
    finally:
        current_state(app).store.close()
