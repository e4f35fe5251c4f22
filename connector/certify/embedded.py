"""The embedded mock: a live, faithful ``mock_qualtrics`` on a free 127.0.0.1 port.

Certification starts the mock here and talks to it, embedded or given with ``--mock URL``, over
HTTP only (through ``mock_qualtrics.client``). An error in the mock's threads is printed as one
line by the CLI and fails the run. ``qharness probe`` starts one here too, with a user and a
workflow matching the real trigger (``config``); ``--fidelity`` passes a record to follow.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

__all__ = ["embedded_mock"]


@contextmanager
def embedded_mock(config: Mapping[str, Any] | None = None) -> Iterator[str]:
    """Start a mock in this process (``config``: ``create_app``'s keys over the in-process
    defaults); yield its base URL; stop it afterwards."""
    from mock_qualtrics import LiveMock

    with LiveMock(config) as live:
        yield live.url
