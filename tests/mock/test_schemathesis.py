"""schemathesis against the live mock's /__admin/openapi.json: no 5xx, answers conform.

The schema is the document the live mock serves (checked equal below); it is loaded from the
module at import time because ``schemathesis.pytest.from_fixture`` fails under pytest 9
(``'Function' object has no attribute '_nodeid'``). Each operation's cases come from
``operation.as_strategy()`` under plain Hypothesis, not schemathesis' pytest plugin: that plugin
(disabled in pyproject's addopts) blanks the arguments of every other Hypothesis failure report.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from mock_qualtrics import LiveMock
from mock_qualtrics.openapi import document

schema = schemathesis.openapi.from_dict(orjson.loads(orjson.dumps(document())))


@pytest.fixture(scope="module")
def live_url() -> Iterator[str]:
    with LiveMock() as live:
        served = httpx.get(f"{live.url}/__admin/openapi.json").json()
        assert served == schema.raw_schema
        yield live.url


OPERATIONS = [result.ok() for result in schema.get_all_operations()]
_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def test_every_documented_operation_is_exercised() -> None:
    """The parametrized test below covers each (method, path) of the document: an empty or
    short list would otherwise pass as fewer tests, not fail."""
    documented = {
        (method.upper(), path)
        for path, item in schema.raw_schema["paths"].items()
        for method in item
        if method in _METHODS
    }
    assert documented, "the admin API documents no operation"
    assert {(op.method.upper(), op.path) for op in OPERATIONS} == documented


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_admin_api_conforms(operation: schemathesis.APIOperation, live_url: str) -> None:
    """Every admin operation: no server error; status, content type and body as documented."""

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        if case.query and isinstance(case.query.get("timeout"), int | float):
            case.query["timeout"] = min(case.query["timeout"], 0.2)  # keep long-polls short
        case.call_and_validate(
            base_url=live_url,
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
            ],
        )

    check()
