"""The embedded mock: a live ``mock_qualtrics`` on a free 127.0.0.1 port, run delay 0.

The only certification module that imports ``mock_qualtrics`` (PRODUCT.md's import direction);
everything else talks to a mock, embedded or given with ``--mock URL``, over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["embedded_mock"]


@contextmanager
def embedded_mock() -> Iterator[str]:
    """Start a mock in this process; yield its base URL; stop it afterwards."""
    from mock_qualtrics import LiveMock

    with LiveMock({"RUN_DELAY": 0}) as live:
        yield live.url
