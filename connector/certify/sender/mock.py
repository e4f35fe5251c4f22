"""The sender's Qualtrics: a faithful embedded mock, recording, with the scenario's faults.

The one sender-certification module that imports ``mock_qualtrics`` (like ``certify/embedded.py``
for ``certify``). The mock runs as Qualtrics does: no deduplication of any kind (Qualtrics
documents none, so a resent event makes a second run), run delay 0. Its app is wrapped in a
:class:`~.recorder.TriggerRecorder`; just before the trigger request a fault step names, the
step is posted through the mock's own admin API (``POST /__admin/faults``, ``count = 1``),
called in-process (``httpx.WSGITransport``) so that it never waits for a server thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import httpx

from ..admin import MockAdmin  # the one import of the admin client in sender certification
from .recorder import Received, TriggerRecorder
from .scenario import PlannedFault

__all__ = ["FAITHFUL_CONFIG", "SenderMock", "sender_mock"]

#: The mock as Qualtrics: run delay 0 (runs finish at once) and no Idempotency-Key memory (a
#: TTL of 0 forgets every key at once; ``EXTENSION_IDEMPOTENCY_KEYS`` off where the mock has it).
FAITHFUL_CONFIG: Final = {
    "RUN_DELAY": 0,
    "IDEMPOTENCY_TTL": 0.0,
    "EXTENSION_IDEMPOTENCY_KEYS": False,
}


@dataclass(slots=True)
class SenderMock:
    """A running mock with one user and one workflow for the sender."""

    url: str
    admin: MockAdmin
    recorder: TriggerRecorder
    workflow: dict[str, Any]
    played: dict[int, str]

    @property
    def trigger_url(self) -> str:
        return str(self.workflow["trigger_url"])

    @property
    def requests(self) -> list[Received]:
        return self.recorder.requests

    def runs(self, expected: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        """The workflow's runs once ``expected`` of them finished (or ``timeout`` passed)."""
        return self.admin.wait_for_runs(str(self.workflow["id"]), expected, timeout=timeout)


@contextmanager
def sender_mock(
    *,
    username: str,
    token: str,
    workflow_name: str,
    fields: Sequence[dict[str, Any]],
    plan: Sequence[PlannedFault],
) -> Iterator[SenderMock]:
    """Start the mock, create the user and the workflow, arm the plan; stop it afterwards."""
    from mock_qualtrics import LiveMock

    by_request = {p.request: p for p in plan}
    played: dict[int, str] = {}
    state: dict[str, Any] = {}
    admin_lock = threading.Lock()

    def before(number: int) -> str:
        planned = by_request.get(number)
        if planned is None:
            return ""
        with admin_lock:
            state["admin"].inject_fault(
                workflow_id=state["workflow_id"], count=1, **dict(planned.step.fault)
            )
        played[number] = planned.step.name
        return planned.step.name

    live = LiveMock(FAITHFUL_CONFIG)
    recorder = TriggerRecorder(live.app.wsgi_app, username=username, token=token, before=before)
    live.app.wsgi_app = recorder  # type: ignore[method-assign]
    with live:
        admin = MockAdmin(live.url)
        # Faults are posted while a trigger request waits in the recorder: through the same admin
        # API, but called in-process, so a sender holding every server thread cannot block it.
        injector = MockAdmin(live.url, transport=httpx.WSGITransport(app=live.app))
        try:
            admin.add_user(username, token)
            workflow = admin.create_workflow(workflow_name, username, list(fields))
            state.update(admin=injector, workflow_id=str(workflow["id"]))
            yield SenderMock(live.url, admin, recorder, workflow, played)
        finally:
            admin.close()
            injector.close()
