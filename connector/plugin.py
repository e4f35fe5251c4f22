"""The pytest plugin: a ``mock_qualtrics`` fixture giving any test a live Qualtrics mock.

Installed with the package (entry point ``pytest11``), so no conftest is needed. Each test gets a
fresh, faithful mock on a free 127.0.0.1 port (bound to port 0, the port read back, so parallel
workers never race), with no run delay; the helpers talk to its admin API over real HTTP.

A test configures its mock the way respx's marker does, with the same tables as the mock config
file (lower-case keys)::

    @pytest.mark.mock_qualtrics(limits={"rate_limit": 5}, extensions={"idempotency_keys": True})
    def test_retries(mock_qualtrics): ...

``fidelity="fidelity.json"`` (a ``qharness probe --record`` file; or the config file's table,
``{"record": ..., "max_age_days": ...}``) makes the mock answer as that record observed; a
record older than its age limit is a ``UserWarning``, one that is not a record fails the test.

A refused admin call, and any error in the mock's threads, fails the test that owns the fixture.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from mock_qualtrics.client import MockAdmin

if TYPE_CHECKING:  # imported when a test asks for the fixture, not when pytest starts
    from mock_qualtrics import LiveMock  # (so coverage, started after plugins load, sees it)

__all__ = ["MockQualtrics", "mock_qualtrics", "pytest_configure"]

_MARKER = (
    "mock_qualtrics(limits=None, extensions=None, users=None, workflows=None, fidelity=None): "
    "configure the mock_qualtrics fixture with the tables of a mock config file (lower-case "
    "keys); fidelity= names a `qharness probe --record` file the mock then follows"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER)


class _Failed(AssertionError):
    """A refused admin call, as a test failure."""


class MockQualtrics(MockAdmin):
    """A live mock and helpers for its admin API; a refused admin call fails the test."""

    failure = _Failed

    def __init__(self, live: LiveMock) -> None:
        super().__init__(live.url)
        self._live = live

    def runs(
        self, workflow_id: str, wait_for: int = 0, timeout: float = 10, status: str | None = None
    ) -> list[dict[str, Any]]:
        """The workflow's run records, newest first; with ``wait_for``, after that many finished
        (or ``timeout`` seconds: check the count)."""
        runs, _ = self.runs_page(workflow_id, wait_for=wait_for, timeout=timeout, status=status)
        return runs


def _marker_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    from mock_qualtrics.config import ConfigError, from_tables

    marker = request.node.get_closest_marker("mock_qualtrics")
    if marker is None:
        return {}
    if marker.args:
        pytest.fail("@pytest.mark.mock_qualtrics takes keyword arguments only", pytrace=False)
    tables = dict(marker.kwargs)
    if isinstance(tables.get("fidelity"), str | os.PathLike):
        tables["fidelity"] = {"record": os.fspath(tables["fidelity"])}
    try:
        config = from_tables(tables, "@pytest.mark.mock_qualtrics")
        if config.get("FIDELITY_RECORD"):
            _warn_if_stale(config)
    except ConfigError as exc:
        pytest.fail(str(exc), pytrace=False)
    return config


def _warn_if_stale(config: dict[str, Any]) -> None:
    """Load the record now (a bad one fails the test in one line) and warn when it is old."""
    from mock_qualtrics.config import DEFAULTS
    from mock_qualtrics.fidelity import load_record

    record = load_record(config["FIDELITY_RECORD"])
    limit = config.get("FIDELITY_MAX_AGE_DAYS", DEFAULTS["FIDELITY_MAX_AGE_DAYS"])
    stale = record.stale_warning(int(limit))
    if stale:
        warnings.warn(stale, UserWarning, stacklevel=2)


@pytest.fixture
def mock_qualtrics(request: pytest.FixtureRequest) -> Iterator[MockQualtrics]:
    """A live, faithful Qualtrics mock on a free 127.0.0.1 port, fresh for this test, run delay 0
    (configure it with ``@pytest.mark.mock_qualtrics(limits=..., extensions=...)``)."""
    from mock_qualtrics import LiveMock

    live = LiveMock(_marker_config(request)).start()
    helper = MockQualtrics(live)
    try:
        yield helper
    finally:
        helper.close()
        live.stop()
    if live.errors:
        pytest.fail("the mock's threads failed: " + " | ".join(live.errors), pytrace=False)
