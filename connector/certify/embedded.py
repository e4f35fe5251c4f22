"""The embedded mock: a live, faithful ``mock_qualtrics`` on a free 127.0.0.1 port.

Certification starts the mock here and talks to it, embedded or given with ``--mock URL``, over
HTTP only (through ``mock_qualtrics.client``). An error in the mock's threads is printed as one
line by the CLI and fails the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["embedded_mock"]


@contextmanager
def embedded_mock() -> Iterator[str]:
    """Start a mock in this process; yield its base URL; stop it afterwards."""
    from mock_qualtrics import LiveMock

    with LiveMock() as live:
        yield live.url
