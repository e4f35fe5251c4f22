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
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import httpx

from mock_qualtrics.client import MockAdmin  # the one import of the admin client here

from .recorder import Received, TriggerRecorder
from .scenario import PlannedFault

__all__ = ["FAITHFUL_CONFIG", "SenderMock", "sender_mock"]

#: The mock as Qualtrics: run delay 0 (runs finish at once) and the Idempotency-Key extension off
#: (its default, said here so that no config can turn it on for a sender's certification).
FAITHFUL_CONFIG: Final = {"RUN_DELAY": 0, "EXTENSION_IDEMPOTENCY_KEYS": False}


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
    mock_config: Mapping[str, Any] | None = None,
) -> Iterator[SenderMock]:
    """Start the mock, create the user and the workflow, arm the plan; stop it afterwards.
    ``mock_config`` adds settings (a fidelity record to follow, say) over the faithful ones."""
    from mock_qualtrics import LiveMock

    by_request = {p.request: p for p in plan}
    played: dict[int, str] = {}
    state: dict[str, Any] = {}
    admin_lock = threading.Lock()

    outage: dict[str, Any] = {}  # a step with duration_s: its fault and when it ends

    def inject(fault: dict[str, Any]) -> None:
        with admin_lock:
            state["admin"].inject_fault(workflow_id=state["workflow_id"], **fault)

    def before(number: int) -> str:
        planned = by_request.get(number)
        if planned is None:
            if outage and time.monotonic() < outage["until"]:
                inject(outage["fault"])  # one more request inside the outage
                played[number] = outage["name"]
                return str(outage["name"])
            # Requests after a step's first, while its count lasts, carry its name too.
            start = max((n for n in by_request if n < number), default=0)
            step = by_request[start].step if start else None
            if step is not None and number < start + step.count:
                played[number] = step.name
                return step.name
            return ""
        step = planned.step
        if step.duration:
            outage.update(
                fault=step.mock_fault(), name=step.name, until=time.monotonic() + step.duration
            )
        inject(step.mock_fault())
        played[number] = step.name
        return step.name

    live = LiveMock({**FAITHFUL_CONFIG, **(mock_config or {})})
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
