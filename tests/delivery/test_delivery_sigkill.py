"""``kill -9`` at random moments loses nothing and sends no duplicate run."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import orjson
import pytest
from delivery_helpers import CLI, TOKEN, profiles
from test_delivery_e2e import activation_file, assert_exactly_once, workflow

from connector.plugin import MockQualtrics

EVENTS = 400
KILLS = 4


@pytest.mark.mock_qualtrics(extensions={"idempotency_keys": True})
def test_sigkill_then_resume_delivers_each_event_exactly_once(
    mock_qualtrics: MockQualtrics, tmp_path: Path
) -> None:
    """SIGKILL the sender at random moments, resume until it exits 0: one run per event
    (the mock deduplicating with its idempotency-keys extension)."""
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
    final = subprocess.run(command, env=env, capture_output=True, timeout=120, check=False)
    assert final.returncode == 0, final.stderr.decode()
    assert kills >= 2, "the sender finished too quickly to be killed; raise EVENTS"
    assert_exactly_once(mock_qualtrics, flow["id"], items)
