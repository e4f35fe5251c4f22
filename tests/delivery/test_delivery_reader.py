"""No line the sender took is lost: not when sending stops early, not when it is killed.

The reader takes an item only once a slot is free and the run goes on; a stopping run joins it
and writes what it handed over. Killed with SIGKILL while reading a pipe, whatever was committed
to the outbox is delivered by the next run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import respx
from hypothesis import given, note, settings
from hypothesis import strategies as st
from support.cli import QHARNESS, qharness
from support.delivery import fast_backoff, outbox_of
from support.destination import TOKEN, TRIGGER, workflow_with_activation
from support.paths import EXAMPLE
from support.profiles import profiles
from support.runs import assert_at_least_once

from connector.activation import Activation, load_activation
from connector.delivery import DeliveryOptions, Sender
from connector.errors import AuthRejected
from connector.plugin import MockQualtrics
from connector.render import Payload, Renderer


class Recorded:
    """An input that remembers every item handed out, sometimes pausing like a slow pipe."""

    def __init__(self, items: list[dict[str, Any]], pause_every: int) -> None:
        self.items = items
        self.pause_every = pause_every
        self.taken: list[dict[str, Any]] = []

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for index, item in enumerate(self.items):
            if self.pause_every and index % self.pause_every == 0:
                time.sleep(0.003)
            self.taken.append(item)
            yield item


@settings(max_examples=12, deadline=None)
@given(count=st.integers(10, 60), accepted=st.integers(0, 8), pause_every=st.integers(1, 3))
def test_a_stop_mid_stream_keeps_every_item_taken(
    tmp_path_factory: Any, count: int, accepted: int, pause_every: int
) -> None:
    """A 401 after some 202s stops sending; every item the reader took is in the outbox."""
    activation: Activation = load_activation(EXAMPLE)
    state_dir = tmp_path_factory.mktemp("state")
    answers = iter([httpx.Response(202)] * accepted)
    lock = threading.Lock()

    def answer(request: httpx.Request) -> httpx.Response:
        with lock:
            return next(answers, httpx.Response(401))

    source = Recorded(profiles(count, seed=count), pause_every)
    with respx.mock(assert_all_called=False) as router:
        router.post(url__startswith=TRIGGER).mock(side_effect=answer)
        sender = Sender(
            activation,
            token=TOKEN,
            state_dir=state_dir,
            options=DeliveryOptions(backoff=fast_backoff(), rate_limit=None, max_in_flight=3),
        )
        rejected: AuthRejected | None = None
        try:
            sender.run(source)
        except AuthRejected as exc:
            rejected = exc
    note(f"taken {len(source.taken)} of {count}; stopped: {rejected is not None}")
    assert rejected is None or rejected.report is sender.report
    renderer = Renderer(activation)
    expected = set()
    for item in source.taken:
        result = renderer.render(item)
        assert isinstance(result, Payload)
        expected.add(result.event_id)
    with outbox_of(activation, state_dir) as outbox:
        kept = {event_id for event_id in expected if outbox.state_of(event_id) is not None}
    assert kept == expected, f"{len(expected - kept)} taken item(s) missing from the outbox"
    assert sender.unread == []
    assert sender.report.profiles_received == len(source.taken)


def test_sigkill_while_reading_a_pipe_loses_no_committed_line(
    mock_qualtrics: MockQualtrics, tmp_path: Path
) -> None:
    """Lines arrive through a pipe; SIGKILL mid-stream; every committed event is delivered."""
    flow, activation = workflow_with_activation(mock_qualtrics, tmp_path)
    items = profiles(120, seed=3)
    env = {**os.environ, "QUALTRICS_API_TOKEN": TOKEN}
    state = tmp_path / "state"
    command = [
        "send", str(activation), "-", "--state", str(state), "--allow-http-loopback",
        "--rate", "45",
    ]  # fmt: skip
    process = subprocess.Popen(  # a real process: only a process can be SIGKILLed
        [*QHARNESS, *command],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None
    for item in items[:80]:
        process.stdin.write(orjson.dumps(item) + b"\n")
    process.stdin.flush()
    mock_qualtrics.runs(flow["id"], wait_for=20, timeout=30)  # sending is under way
    for item in items[80:100]:  # more lines arrive while it sends
        process.stdin.write(orjson.dumps(item) + b"\n")
    process.stdin.flush()
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stdin.close()
    loaded = load_activation(activation)
    renderer = Renderer(loaded)
    by_id = {renderer.render(p).event_id: p for p in items}  # type: ignore[union-attr]
    with outbox_of(loaded, state) as outbox:
        committed = {event_id for event_id in by_id if outbox.state_of(event_id) is not None}
    assert len(committed) >= 20
    resume = qharness(*command[:2], os.devnull, *command[3:], env={"QUALTRICS_API_TOKEN": TOKEN})
    assert resume.returncode == 0, resume.stderr.decode()
    with outbox_of(loaded, state) as outbox:
        assert {e for e in committed if outbox.state_of(e) != "delivered"} == set()
        total = sum(outbox.resends().values())
    assert_at_least_once(mock_qualtrics, flow["id"], [by_id[e] for e in committed], resends=total)
