"""Suite-wide settings: Hypothesis profiles, and a guard that keeps tests on 127.0.0.1.

Plain helpers shared by several test files live in ``tests/support`` (this file puts ``tests/``
on ``sys.path``, so they import as ``support.*``); fixtures live in the ``conftest.py`` files.

Profiles: ``default`` is quick for a developer's loop; ``ci`` (``HYPOTHESIS_PROFILE=ci``, set by
``nox -s tests`` under CI) runs more examples without a deadline, since a shared 2-core CI
machine makes timing noise. Both print the reproduction blob of a failure.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# Before any helper is imported: their asserts explain a failure as a test's asserts do.
pytest.register_assert_rewrite("support")

from support.paths import EXAMPLE  # noqa: E402 - after register_assert_rewrite, on purpose

settings.register_profile(
    "default",
    max_examples=60,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    print_blob=True,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = host == "localhost"
        if not allowed:
            raise ConnectionRefusedError(f"tests may reach only 127.0.0.1, not {host!r}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def _no_network() -> Iterator[None]:
    """Refuse any connection that leaves the machine (tests reach only loopback)."""
    socket.socket.connect = _loopback_only  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]


@pytest.fixture
def bundled_activation_path() -> Path:
    return EXAMPLE
