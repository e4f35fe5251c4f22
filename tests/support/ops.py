"""Store ops for tests of the mock's store: an accepted trigger, numbered."""

from __future__ import annotations

import time

from mock_qualtrics.ops import AcceptRun
from mock_qualtrics.records import EventRow, PendingRun

__all__ = ["accepted"]


def accepted(n: int, *, delay: float = 0.0, workflow_id: str = "WF") -> AcceptRun:
    """Trigger number ``n`` accepted now, its run due after ``delay`` seconds."""
    now = time.time()
    run = PendingRun(
        id=f"run-{n}",
        workflow_id=workflow_id,
        request_id=f"req-{n}",
        received_ts=now,
        body=b'{"n": %d}' % n,
        document={"n": n},
        fields=(),
        storage="raw",
        body_sha256=n.to_bytes(32, "big"),
    )
    row = EventRow(run.request_id, now, workflow_id, 202, "accepted", None)
    return AcceptRun(row, run, now + delay)
