"""A 202 is said only once its run is committed: ``kill -9`` under load loses no acknowledged run.

``qharness mock serve --db F`` is SIGKILLed three times while eight clients are sending, and
restarted on the same file each time. Every request that got a 202 must have its run (a queued
one is failed on restart, saying the mock stopped, but it exists), and SQLite's integrity check
must pass. The kill comes after a number of acknowledgements, not after a sleep, so a slow machine
only makes the test slower.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import threading
from contextlib import closing
from pathlib import Path

import httpx
from support.served import MOCK_TOKEN_ID, mock_file, serve

CLIENTS = 8
ACKS_PER_CYCLE = 150


def _load(url: str, acknowledged: set[str], lock: threading.Lock, enough: threading.Event) -> None:
    trigger = f"{url}/inbound-event/v1/events/json/triggers?urlTokenId={MOCK_TOKEN_ID}"
    with httpx.Client(timeout=30) as client:
        n = 0
        while True:
            n += 1
            try:
                r = client.post(trigger, json={"n": n}, headers={"X-API-TOKEN": "tok"})
            except httpx.HTTPError:
                return  # the mock was killed
            if r.status_code == 202:
                with lock:
                    acknowledged.add(r.json()["meta"]["requestId"])
                    if len(acknowledged) >= enough_at[0]:
                        enough.set()


enough_at = [0]


def test_sigkill_under_load_loses_no_acknowledged_run(tmp_path: Path) -> None:
    config = mock_file(tmp_path / "mock.toml")
    db = tmp_path / "mock.db"
    acknowledged: set[str] = set()
    lock = threading.Lock()
    for cycle in range(3):
        proc, url = serve("--workflows", str(config), "--db", str(db), stderr=subprocess.DEVNULL)
        enough = threading.Event()
        enough_at[0] = (cycle + 1) * ACKS_PER_CYCLE
        clients = [
            threading.Thread(target=_load, args=(url, acknowledged, lock, enough))
            for _ in range(CLIENTS)
        ]
        for c in clients:
            c.start()
        try:
            assert enough.wait(120), "the mock acknowledged too few requests"
        finally:
            proc.send_signal(signal.SIGKILL)  # mid-load: requests are in flight
            proc.communicate(timeout=30)
            for c in clients:
                c.join(60)
    proc, url = serve(
        "--workflows", str(config), "--db", str(db), stderr=subprocess.DEVNULL
    )  # a restart takes over the killed mock's file
    proc.terminate()
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        recorded = {row[0] for row in conn.execute("SELECT request_id FROM runs")}
        journalled = {
            row[0] for row in conn.execute("SELECT request_id FROM events WHERE outcome='accepted'")
        }
    assert len(acknowledged) >= 3 * ACKS_PER_CYCLE
    assert acknowledged - recorded == set()
    assert acknowledged - journalled == set()
