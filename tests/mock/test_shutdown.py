"""The ordered shutdown: stopping a mock mid-request prints nothing and leaves no one hanging.

Regression for a waitress worker that was still finishing a request while the mock closed the
event loop's wake-up pipe, which printed ``OSError: [Errno 9] Bad file descriptor`` with a
traceback into certification's output. What is asserted is deterministic: whatever the timing,
every request gets an answer or a connection error, and stderr stays empty.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from support.mock import PAYLOAD, TOKEN, TOKEN_ID, WF, base_config

from mock_qualtrics import LiveMock
from mock_qualtrics.state import current_state

ROUNDS = 200
SENDERS = 4
TRIGGER = f"/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}"


def _hammer(
    client: httpx.Client, url: str, started: threading.Barrier, outcomes: list[str]
) -> None:
    """One request answered, then (the mock stopping meanwhile) requests until one fails."""
    for n in range(10_000):
        try:
            client.post(url + TRIGGER, json=PAYLOAD, headers={"X-API-TOKEN": TOKEN})
            outcomes.append("answer")
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError):
            outcomes.append("connection error")
            return
        except httpx.HTTPError as exc:  # a timeout: someone was left hanging
            outcomes.append(f"{type(exc).__name__}: {exc}")
            return
        finally:
            if n == 0:
                started.wait()
    outcomes.append("never stopped")


def test_stopping_mid_request_is_silent(capfd: pytest.CaptureFixture[str]) -> None:
    """200 times: start a mock, fire requests from several threads, stop it while they fly."""
    problems: list[Any] = []
    clients = [httpx.Client(timeout=20) for _ in range(SENDERS)]
    admin = httpx.Client(timeout=20)
    try:
        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            for _ in range(ROUNDS):
                live = LiveMock(base_config(), threads=4).start()
                # Each request then spends 20 ms inside a worker: the stop finds them mid-request.
                admin.post(f"{live.url}/__admin/faults", json={"delay_ms": 20, "count": 1000})
                outcomes: list[str] = []
                started = threading.Barrier(SENDERS + 1)
                futures = [pool.submit(_hammer, c, live.url, started, outcomes) for c in clients]
                started.wait()
                live.stop()
                for f in futures:
                    f.result()
                problems += [o for o in outcomes if o not in ("answer", "connection error")]
                problems += live.errors
    finally:
        for c in [*clients, admin]:
            c.close()
    assert problems == []
    _, err = capfd.readouterr()
    assert err == ""


def test_a_long_poll_is_answered_when_the_mock_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    """A waiting ``wait_for`` request ends with ``timed_out`` instead of outliving the store."""
    live = LiveMock(base_config()).start()
    answer: list[Any] = []
    store = current_state(live.app).store
    waiting = threading.Event()
    real_wait_change = store.wait_change

    def wait_change(generation: int, timeout: float) -> bool:
        waiting.set()
        return real_wait_change(generation, timeout)

    monkeypatch.setattr(store, "wait_change", wait_change)

    def wait() -> None:
        with httpx.Client(base_url=live.url, timeout=40) as c:
            answer.append(
                c.get(f"/__admin/workflows/{WF}/runs", params={"wait_for": 5, "timeout": 30})
            )

    waiter = threading.Thread(target=wait)
    waiter.start()
    assert waiting.wait(30)  # the long-poll is inside the mock, waiting
    live.stop()
    waiter.join(40)
    assert answer[0].status_code == 200
    assert answer[0].json()["timed_out"] is True
    assert live.errors == []
