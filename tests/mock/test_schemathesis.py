"""schemathesis against the live mock's /__admin/openapi.json: no 5xx, answers conform, and
the document is the API (valid data accepted, invalid data and undeclared methods refused).

Two runs: each operation's cases under plain Hypothesis (below), and the schemathesis CLI with
``--checks all`` over its coverage, fuzzing and stateful phases, at a bounded example count, with
``tests/mock/schemathesis.toml`` (the two rules a schema cannot say, each on its one operation).

The schema is the document the live mock serves (checked equal below); it is loaded from the
module at import time because ``schemathesis.pytest.from_fixture`` fails under pytest 9
(``'Function' object has no attribute '_nodeid'``). Each operation's cases come from
``operation.as_strategy()`` under plain Hypothesis, not schemathesis' pytest plugin: that plugin
(disabled in pyproject's addopts) blanks the arguments of every other Hypothesis failure report.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
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
                negative_data_rejection,
                unsupported_method,
            ],
        )

    check()


CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.mark.slow
def test_schemathesis_cli_with_every_check_finds_nothing(tmp_path: Path) -> None:
    """``schemathesis run --checks all`` (coverage, fuzzing, stateful; 10 examples an
    operation, a fixed seed) against a live mock whose long-poll maximum is 1 s: no failure."""
    with LiveMock({"MAX_WAIT_SECONDS": 1}) as live:
        done = subprocess.run(
            [
                str(SCHEMATHESIS),
                "--config-file",
                str(CONFIG),
                "run",
                f"{live.url}/__admin/openapi.json",
                "--checks",
                "all",
                "--phases",
                "coverage,fuzzing,stateful",
                "--max-examples",
                "10",
                "--seed",
                "1",
                "--workers",
                "1",
                "--generation-database",
                "none",
                "--report-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,  # its cache (.schemathesis/) goes there, not into the checkout
            check=False,
        )
        assert live.errors == []
    assert done.returncode == 0, done.stdout[-6000:]
