"""``kill -9`` at random moments loses nothing; every second run is a counted resend.

Delivery is at-least-once: an event in flight at the kill may have started a run, and Qualtrics
documents no deduplication, so its resend can start a second one. The faithful mock marks such a
run ``duplicate_of``; the outbox counts every resend of an event whose outcome was unknown.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import orjson
from delivery_helpers import CLI, TOKEN, profiles
from test_delivery_e2e import activation_file, assert_at_least_once, workflow

from connector.activation import load_activation
from connector.delivery import Outbox, destination_key
from connector.plugin import MockQualtrics

EVENTS = 400
KILLS = 4
MAX_IN_FLIGHT = 10


def test_sigkill_then_resume_delivers_every_event_and_counts_each_resend(
    mock_qualtrics: MockQualtrics, tmp_path: Path
) -> None:
    """SIGKILL the sender at random moments, resume until it exits 0: nothing lost, duplicates
    at most the in-flight limit per kill, each one a resend the outbox counted."""
    flow = workflow(mock_qualtrics)
    activation = activation_file(tmp_path, flow["trigger_url"])
    items = profiles(EVENTS, seed=9)
    data = tmp_path / "profiles.jsonl"
    data.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in items))
    env = {**os.environ, "QUALTRICS_API_TOKEN": TOKEN}
    command = [
        *CLI,
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
    rng = random.Random(4)
    kills = 0
    for _ in range(KILLS):
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        time.sleep(rng.uniform(0.4, 1.2))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.communicate(timeout=30)
    report_path = tmp_path / "report.json"
    final = subprocess.run(
        [*command, "--report-json", str(report_path)],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert final.returncode == 0, final.stderr.decode()
    assert kills >= 2, "the sender finished too quickly to be killed; raise EVENTS"
    loaded = load_activation(activation)
    key = destination_key(loaded.destination.url, loaded.destination.username)
    with Outbox(tmp_path / "state", key) as outbox:
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
