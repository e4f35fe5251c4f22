"""The ``mock_qualtrics`` fixture's parts: the helper a test gets and the session's kept mocks.

Kept out of :mod:`connector.plugin`, which pytest imports at start-up in every run where this
package is installed: this module imports httpx and jsonschema (through the admin client), 110 ms,
and its first mock imports Flask; a run that never asks for the fixture pays for none of it.
Import ``MockQualtrics`` from :mod:`connector.plugin`, where it is public.
"""

from __future__ import annotations

import json
import os
import ssl
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mock_qualtrics.client import MockAdmin

if TYPE_CHECKING:  # imported when a test asks for the fixture, not when pytest starts
    from mock_qualtrics import LiveMock  # (so coverage, started after plugins load, sees it)

__all__ = ["MockQualtrics", "Servers", "marker_config"]


class _Failed(AssertionError):
    """A refused admin call, as a test failure."""


class MockQualtrics(MockAdmin):
    """A live mock and helpers for its admin API; a refused admin call fails the test."""

    failure = _Failed

    def __init__(self, live: LiveMock, *, transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(live.url, transport=transport)
        self._live = live

    def runs(
        self, workflow_id: str, wait_for: int = 0, timeout: float = 10, status: str | None = None
    ) -> list[dict[str, Any]]:
        """The workflow's run records, newest first; with ``wait_for``, after that many finished
        (or ``timeout`` seconds: check the count)."""
        runs, _ = self.runs_page(workflow_id, wait_for=wait_for, timeout=timeout, status=status)
        return runs


def marker_config(request: pytest.FixtureRequest, servers: Servers) -> dict[str, Any]:
    """The mock config of the test's ``@pytest.mark.mock_qualtrics`` ({} without one); a mistake
    in it fails the test in one line."""
    marker = request.node.get_closest_marker("mock_qualtrics")
    if marker is None:
        return {}
    # A parametrized test's items share one Mark: its config is checked once, not per item.
    cached = servers.configs.get(id(marker))
    if cached is not None and cached[0] is marker:
        return cached[1]
    config = _checked_config(marker)
    if not config.get("FIDELITY_RECORD"):  # a stale record warns in every test
        servers.configs[id(marker)] = (marker, config)
    return config


def _checked_config(marker: pytest.Mark) -> dict[str, Any]:
    from mock_qualtrics.config import ConfigError, from_tables

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
        problem = str(exc)
    else:
        return config
    pytest.fail(problem, pytrace=False)  # outside the except: the one line, not a chain


def _warn_if_stale(config: dict[str, Any]) -> None:
    """Load the record now (a bad one fails the test in one line) and warn when it is old."""
    from mock_qualtrics.config import DEFAULTS
    from mock_qualtrics.fidelity import load_record

    record = load_record(config["FIDELITY_RECORD"])
    limit = config.get("FIDELITY_MAX_AGE_DAYS", DEFAULTS["FIDELITY_MAX_AGE_DAYS"])
    stale = record.stale_warning(int(limit))
    if stale:
        warnings.warn(stale, UserWarning, stacklevel=2)


#: Live mocks kept per session, one per configuration in use, least recently used stopped first.
_KEPT = 4


class _KeptTransport(httpx.BaseTransport):
    """One connection pool to a kept mock, shared by each test's helper.

    Why: making an ``httpx.Client`` costs 1-70 ms (its TLS context loads the CA bundle), more
    than restoring the mock; a helper's ``close()`` leaves this pool to the next test. The pool
    speaks plain HTTP to 127.0.0.1 only, so its TLS context trusts no certificate at all: no
    bundle to load (35 ms of the first test), and a TLS connection through it fails rather than
    go unverified."""

    def __init__(self) -> None:
        self._pool = httpx.HTTPTransport(verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._pool.handle_request(request)

    def close(self) -> None:
        """Nothing: the pool outlives each test's helper (see :meth:`shut`)."""

    def shut(self) -> None:
        self._pool.close()


@dataclass(slots=True)
class _Kept:
    live: LiveMock
    transport: _KeptTransport
    _helper: MockQualtrics | None = None

    def helper(self) -> MockQualtrics:
        """The helper its tests share (it holds no state of a test's own, and making an
        ``httpx.Client`` per test cost more than restoring the mock); a new one if a test
        closed it."""
        if self._helper is None or self._helper.closed:
            self._helper = MockQualtrics(self.live, transport=self.transport)
        return self._helper


class Servers:
    """This session's live mocks, by configuration (see :mod:`connector.plugin`'s docstring)."""

    def __init__(self) -> None:
        self._kept: dict[str, _Kept] = {}  # insertion order: least recently used first
        #: Checked marker configs by ``id(mark)``, the mark kept so that its id stays its own.
        self.configs: dict[int, tuple[pytest.Mark, dict[str, Any]]] = {}

    def fresh(self, config: dict[str, Any]) -> _Kept:
        """A running mock of ``config`` in the state it started in, and its connection pool."""
        from mock_qualtrics import LiveMock

        key = json.dumps(config, sort_keys=True, default=repr)
        kept = self._kept.pop(key, None)
        if kept is not None:
            try:
                kept.live.restore()
            except Exception:  # its store failed: a new mock rather than a half-reset one
                self._stop(kept)
                kept = None
        if kept is not None and not kept.live.running:
            self._stop(kept)
            kept = None
        if kept is None:
            kept = _Kept(LiveMock(config).start(), _KeptTransport())
        self._kept[key] = kept
        while len(self._kept) > _KEPT:
            self._stop(self._kept.pop(next(iter(self._kept))))
        return kept

    @staticmethod
    def _stop(kept: _Kept) -> None:
        kept.transport.shut()
        kept.live.stop()

    def discard(self, kept: _Kept) -> None:
        """Stop ``kept`` and forget it (the next test of its configuration gets a new one)."""
        for key, other in list(self._kept.items()):
            if other is kept:
                del self._kept[key]
        self._stop(kept)

    def close(self) -> None:
        for kept in reversed(list(self._kept.values())):  # newest first: each restores a hook
            self._stop(kept)
        self._kept.clear()
