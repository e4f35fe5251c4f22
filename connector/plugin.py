"""The pytest plugin: a ``mock_qualtrics`` fixture giving any test a live Qualtrics mock.

Installed with the package (entry point ``pytest11``), so no conftest is needed. Each test gets a
fresh, faithful mock on a free 127.0.0.1 port (bound to port 0, the port read back, so parallel
workers never race), with no run delay; the helpers talk to its admin API over real HTTP.

Fresh, but not new: starting an app and a server cost 40-50 ms a test, so the session keeps one
live mock per configuration (each pytest-xdist worker, a process, has its own) and hands it over
restored to the state it started in: runs, journal, users, workflows, faults, rate-limit buckets,
lockouts, Idempotency-Keys and counters forgotten, the configuration's users and workflows applied
again, every connection of the previous test that was still sending or receiving closed (idle
keep-alive connections are kept, up to 8, as a server keeps them between requests). A mock
still busy with a previous test's request 5 s after that test ended, or one whose threads failed,
is stopped and replaced.

A test configures its mock the way respx's marker does, with the same tables as the mock config
file (lower-case keys)::

    @pytest.mark.mock_qualtrics(limits={"rate_limit": 5}, extensions={"idempotency_keys": True})
    def test_retries(mock_qualtrics): ...

``fidelity="fidelity.json"`` (a ``qharness probe --record`` file; or the config file's table,
``{"record": ..., "max_age_days": ...}``) makes the mock answer as that record observed; a
record older than its age limit is a ``UserWarning``, one that is not a record fails the test.

A refused admin call, and any error in the mock's threads, fails the test that owns the fixture.

pytest loads this module in every run where the package is installed, so it imports pytest and
nothing else: the fixture's parts (:mod:`connector.mock_fixture`) and the mock load when a test
first asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the fixture's parts load when a test first asks for it (see mock_fixture)
    from .mock_fixture import MockQualtrics, Servers

__all__ = ["MockQualtrics", "mock_qualtrics", "pytest_configure"]

_MARKER = (
    "mock_qualtrics(limits=None, extensions=None, users=None, workflows=None, fidelity=None): "
    "configure the mock_qualtrics fixture with the tables of a mock config file (lower-case "
    "keys); fidelity= names a `qharness probe --record` file the mock then follows"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER)
    _import_without_rewriting(config)


#: This distribution's packages. pytest marks every top-level package of a plugin's distribution
#: for assertion rewriting, not the plugin's module alone: each of their modules is then parsed
#: and compiled again on import, and where bytecode is not written (``PYTHONDONTWRITEBYTECODE``,
#: read-only site-packages: many CI images) that happens in every pytest process, 0.2 s for the
#: mock's first test. Their asserts are not a test's, so they are imported as Python imports them.
_PACKAGES = ("connector", "mock_qualtrics", "contracts")


def _import_without_rewriting(config: pytest.Config) -> None:
    """Unmark :data:`_PACKAGES` for rewriting (the hook has no public way; without the attribute,
    as in a future pytest, they stay marked: slower, never wrong)."""
    hook = getattr(config.pluginmanager, "rewrite_hook", None)
    marked = getattr(hook, "_must_rewrite", None)
    if hook is None or not isinstance(marked, set):
        return
    marked.difference_update(_PACKAGES)
    hook.mark_rewrite()  # marks nothing, and forgets the names it already judged


def __getattr__(name: str) -> Any:
    """``MockQualtrics``, for a test's annotations, imported on first use (PEP 562)."""
    if name == "MockQualtrics":
        from .mock_fixture import MockQualtrics

        return MockQualtrics
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@pytest.fixture(scope="session")
def _mock_qualtrics_servers() -> Iterator[Servers]:
    from .mock_fixture import Servers

    servers = Servers()
    try:
        yield servers
    finally:
        servers.close()


@pytest.fixture
def mock_qualtrics(
    request: pytest.FixtureRequest, _mock_qualtrics_servers: Servers
) -> Iterator[MockQualtrics]:
    """A live, faithful Qualtrics mock on a free 127.0.0.1 port, fresh for this test, run delay 0
    (configure it with ``@pytest.mark.mock_qualtrics(limits=..., extensions=...)``)."""
    from .mock_fixture import marker_config

    servers = _mock_qualtrics_servers
    kept = servers.fresh(marker_config(request, servers))
    live = kept.live
    seen = len(live.errors)
    try:
        yield kept.helper()
    finally:
        if not live.quiesce():
            servers.discard(kept)  # a request of this test is still running: never reuse it
    errors = live.errors[seen:]
    if errors:
        servers.discard(kept)
        pytest.fail("the mock's threads failed: " + " | ".join(errors), pytrace=False)
