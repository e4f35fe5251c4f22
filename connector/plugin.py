"""The pytest plugin: a ``mock_qualtrics`` fixture giving any test a live Qualtrics mock.

Installed with the package (entry point ``pytest11``), so no conftest is needed. Each test gets a
fresh mock on a free 127.0.0.1 port (bound to port 0, the port read back, so parallel workers never
race), with no run delay; the helpers talk to its admin API over real HTTP with httpx.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .certify.admin import MockAdmin

if TYPE_CHECKING:  # imported when a test asks for the fixture, not when pytest starts
    from mock_qualtrics import LiveMock  # (so coverage, started after plugins load, sees it)

__all__ = ["MockQualtrics", "mock_qualtrics"]


class MockQualtrics(MockAdmin):
    """A live mock and helpers for its admin API; a refused admin call fails the test."""

    failure = AssertionError

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


@pytest.fixture
def mock_qualtrics() -> Iterator[MockQualtrics]:
    """A live Qualtrics mock on a free 127.0.0.1 port, fresh for this test, run delay 0."""
    from mock_qualtrics import LiveMock

    with LiveMock({"RUN_DELAY": 0}) as live:
        helper = MockQualtrics(live)
        try:
            yield helper
        finally:
            helper.close()
