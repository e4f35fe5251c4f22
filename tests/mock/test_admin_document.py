"""The admin document is the admin API: what the handlers refuse, the document refuses too.

Each request below was a schemathesis finding against the live mock: a schema-valid body the
mock refused, a non-JSON body that reset the mock, an empty ``limit`` taken as the default, an
undeclared method answered 415 or 400 instead of 405.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from mock_qualtrics import LiveMock
from mock_qualtrics.jsonpath_fields import compile_path
from mock_qualtrics.openapi import JSONPATH, NON_BLANK, document

DOC = document()


def _schema_accepts(name: str, body: Any) -> bool:
    schema = {**DOC["components"]["schemas"][name], "components": DOC["components"]}
    return Draft202012Validator(schema).is_valid(body)


@pytest.fixture(scope="module")
def admin() -> Iterator[httpx.Client]:
    with LiveMock() as live, httpx.Client(base_url=f"{live.url}/__admin") as client:
        yield client
        assert live.errors == []


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/workflows", {"GET", "POST"}),
        ("PUT", "/workflows/WF_x", {"GET", "PATCH", "DELETE"}),
        ("DELETE", "/reset", {"POST"}),
        ("PUT", "/health", {"GET"}),
        ("PATCH", "/faults", {"GET", "POST", "DELETE"}),
    ],
)
def test_an_undeclared_method_is_405_before_any_other_check(
    admin: httpx.Client, method: str, path: str, allowed: set[str]
) -> None:
    """405 with ``Allow``, whatever the Content-Type, body or Origin would have earned."""
    answer = admin.request(
        method,
        path,
        content=b'{"everything": true}',
        headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
    )
    assert answer.status_code == 405
    assert allowed <= {m.strip() for m in answer.headers["Allow"].split(",")}
    assert answer.json()["meta"]["error"]["errorCode"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize("body", [b"\x00", b"everything", b"[]", b"null", b"{", b""])
def test_reset_with_a_body_that_is_not_a_json_object_resets_nothing(
    admin: httpx.Client, body: bytes
) -> None:
    """400, and the workflow created before is still there."""
    created = admin.post("/workflows", json={"name": "kept", "owner": "o"})
    assert created.status_code == 201
    answer = admin.post("/reset", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert "body: must be a JSON object" in answer.text
    assert admin.get(f"/workflows/{created.json()['id']}").status_code == 200
    empty = admin.post("/reset", headers={"Content-Type": "application/json"})
    assert empty.status_code == 400  # no body is no reset either: {} is the defaults
    assert admin.post("/reset", json={}).status_code == 200


@pytest.mark.parametrize(
    "query", ["/events?limit=", "/events?offset=", "/runs?limit=", "/events?workflow_id="]
)
def test_an_empty_query_value_is_refused_not_taken_as_the_default(
    admin: httpx.Client, query: str
) -> None:
    assert admin.get(query).status_code == 400


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "a fault needs status, delay_ms above 0 or drop_connection true"),
        ({"delay_ms": 0}, "a fault needs"),
        ({"drop_connection": False, "count": 2}, "a fault needs"),
    ],
)
def test_a_fault_that_does_nothing_is_refused_by_the_document_too(
    admin: httpx.Client, body: dict[str, Any], message: str
) -> None:
    assert not _schema_accepts("FaultInput", body)
    answer = admin.post("/faults", json=body)
    assert answer.status_code == 400
    assert message in answer.text


@pytest.mark.parametrize("body", [{"status": 503}, {"delay_ms": 1}, {"drop_connection": True}])
def test_each_of_the_three_makes_a_fault(admin: httpx.Client, body: dict[str, Any]) -> None:
    assert _schema_accepts("FaultInput", body)
    assert admin.post("/faults", json=body).status_code == 201
    assert admin.delete("/faults").status_code == 204


@pytest.mark.parametrize("token", ["\x1c", " \x85 ", "\ufeff", "\u3000\t"])
def test_a_blank_api_token_is_blank_for_the_document_and_the_mock(
    admin: httpx.Client, token: str
) -> None:
    """White space under either regex dialect (Python's or ECMA-262's) is blank for both."""
    body = {"username": "u", "api_token": token}
    assert not _schema_accepts_user(body)
    answer = admin.post("/users", json=body)
    assert answer.status_code == 400
    assert "api_token: must not be blank" in answer.text


def _schema_accepts_user(body: dict[str, Any]) -> bool:
    schema = DOC["paths"]["/__admin/users"]["post"]["requestBody"]["content"]
    return Draft202012Validator(schema["application/json"]["schema"]).is_valid(body)


@pytest.mark.parametrize("jsonpath", ["0", "$.a b", "$[?(@.a)]", "$.a\n", "$[1:2]", "$.."])
def test_a_jsonpath_the_mock_refuses_the_document_refuses(
    admin: httpx.Client, jsonpath: str
) -> None:
    field = {"name": "f", "jsonpath": jsonpath}
    assert not _schema_accepts("Field", field)
    answer = admin.post("/workflows", json={"name": "W", "owner": "o", "fields": [field]})
    assert answer.status_code == 400
    assert "fields[0].jsonpath: must be a JSONPath" in answer.text


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.from_regex(JSONPATH, fullmatch=True))
def test_every_jsonpath_the_document_takes_compiles(jsonpath: str) -> None:
    """The document says the whole rule: a path its pattern matches never fails to compile."""
    compile_path(jsonpath)


def test_the_non_blank_rule_spells_out_both_dialects_white_space() -> None:
    python_space = {chr(c) for c in range(0x10000) if chr(c).isspace()}
    ecma_space = set("\t\n\v\f\r \xa0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff")
    ecma_space |= {chr(c) for c in range(0x2000, 0x200B)}
    assert all(not re.search(NON_BLANK, c) for c in python_space | ecma_space)
    assert re.search(NON_BLANK, "x")
    assert re.search(NON_BLANK, "\u200b")  # zero width, not white space
