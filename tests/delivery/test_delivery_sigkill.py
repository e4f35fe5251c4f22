"""``kill -9`` mid-stream loses nothing; every second run is a counted resend.

Delivery is at-least-once: an event in flight at the kill may have started a run, and Qualtrics
documents no deduplication, so its resend can start a second one. The faithful mock marks such a
run ``duplicate_of``; the outbox counts every resend of an event whose outcome was unknown.

Each kill comes when the mock has finished a set number of runs, not after a random sleep: the
sender is mid-stream by construction however fast or loaded the machine is, and a failure
replays the same way.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import orjson
from support.cli import QHARNESS, qharness
from support.delivery import outbox_of
from support.destination import TOKEN, workflow_with_activation
from support.profiles import jsonl, profiles
from support.runs import assert_at_least_once

from connector.activation import load_activation
from connector.plugin import MockQualtrics

EVENTS = 400
KILLS = 4
#: Kill number k comes once the mock has finished k * RUNS_PER_KILL runs (duplicates included),
#: so the last kill leaves a hundred events or more still to send.
RUNS_PER_KILL = 70
MAX_IN_FLIGHT = 10


def test_sigkill_then_resume_delivers_every_event_and_counts_each_resend(
    mock_qualtrics: MockQualtrics, tmp_path: Path
) -> None:
    """SIGKILL the sender mid-stream, resume until it exits 0: nothing lost, duplicates at most
    the in-flight limit per kill, each one a resend the outbox counted."""
    flow, activation = workflow_with_activation(mock_qualtrics, tmp_path)
    items = profiles(EVENTS, seed=9)
    data = jsonl(tmp_path / "profiles.jsonl", items)
    env = {**os.environ, "QUALTRICS_API_TOKEN": TOKEN}
    command = [
        "send",
        str(activation),
        str(data),
        "--state",
        str(tmp_path / "state"),
        "--allow-http-loopback",
        "--rate",
        "45",  # under the mock's leaky bucket (50/s): above it the journal fills with 429s
        "--max-in-flight",
        str(MAX_IN_FLIGHT),
    ]
    kills = KILLS
    for kill in range(1, KILLS + 1):
        target = kill * RUNS_PER_KILL
        log = tmp_path / f"send-{kill}.stderr"  # a file, not a pipe: a full pipe would stall it
        with log.open("wb") as stderr:
            # A real process: only a process can be SIGKILLed.
            process = subprocess.Popen(
                [*QHARNESS, *command], env=env, stdout=subprocess.DEVNULL, stderr=stderr
            )
            try:
                finished = _wait_for_runs(mock_qualtrics, flow["id"], target, process)
                running = process.poll() is None
            finally:
                process.send_signal(signal.SIGKILL)  # mid-stream: the target is short of EVENTS
                process.wait(timeout=30)
        said = log.read_text(encoding="utf-8", errors="replace")
        assert running, f"the sender ended before kill {kill}: {said}"
        assert finished >= target, f"{finished} of {target} runs before kill {kill}: {said}"
    report_path = tmp_path / "report.json"
    final = qharness(
        *command, "--report-json", str(report_path), env={"QUALTRICS_API_TOKEN": TOKEN}
    )
    assert final.returncode == 0, final.stderr.decode()
    with outbox_of(load_activation(activation), tmp_path / "state") as outbox:
        resends = outbox.resends()
    total = sum(resends.values())
    assert total <= kills * MAX_IN_FLIGHT
    report = orjson.loads(report_path.read_bytes())
    assert 0 <= report["unknown_outcome_resends"] <= total
    duplicates = assert_at_least_once(mock_qualtrics, flow["id"], items, resends=total)
    assert len(duplicates) <= kills * MAX_IN_FLIGHT
    key_of = {e["requestId"]: e["idempotency_key"] for e in mock_qualtrics.events()}
    for run in duplicates:  # each second run is the resend of an event the outbox counted
        assert resends.get(key_of[run["requestId"]], 0) >= 1


def _wait_for_runs(
    mock: MockQualtrics, workflow_id: str, count: int, sender: subprocess.Popen[bytes]
) -> int:
    """How many runs the workflow has finished, once ``count`` have, the sender has ended, or
    two minutes have passed (the admin API long-polls at most 30 s a call)."""
    finished = 0
    for _ in range(4):
        finished = len(mock.runs(workflow_id, wait_for=count, timeout=30))
        if finished >= count or sender.poll() is not None:
            break
    return finished
