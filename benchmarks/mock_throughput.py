"""Accepted-and-recorded events per second of the mock, beside a bare Flask endpoint.

Both servers run in a subprocess through the same code path as ``qharness mock serve`` (waitress,
same settings); load comes from ``wrk`` (32 connections) in another process, or, when wrk is not
installed, from a multi-process httpx client. "Recorded" counts the run rows the admin API reports
after the load, not the 202 answers. Prints req/s for both and the ratio.

    python benchmarks/mock_throughput.py [--duration 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

TOKEN_ID = "5f0c6c0e-8a47-4c1b-9d52-0b7c2a61d9e3"  # noqa: S105 - a test URL token
PAYLOAD = (
    '{"person":{"name":{"firstName":"Dave"}},"mobilePhone":{"number":"0123456789"},'
    '"identityMap":{"Email":[{"id":"dave@example.com"}]},"segmentMembership":{"ups":'
    '{"046456e3-18e1-48a6-9bda-d68547861283":{"lastQualificationTime":'
    '"2023-09-05T10:43:55.602687Z","status":"realized"}}}}'
)
WORKFLOWS = f"""
[[users]]
username = "bench"
api_token = "bench-token"

[[workflows]]
id = "WF_bench"
name = "bench"
owner = "bench"
url_token_id = "{TOKEN_ID}"

[[workflows.fields]]
name = "email"
jsonpath = "$.identityMap.Email[0].id"
required = true

[[workflows.fields]]
name = "person.name.firstName"
jsonpath = "$.person.name.firstName"

[limits]
rate_limit = 100000000
daily_run_limit = 100000000
history_limit = 10000000
"""

BARE_SERVER = """
import sys
from flask import Flask, jsonify
from mock_qualtrics.server import make_server

app = Flask("bare")
app.config["MAX_BODY_BYTES"] = 102400

@app.post("/inbound-event/v1/events/json/triggers")
def bare():
    return jsonify({"result": {}, "meta": {"httpStatus": "202 - Accepted"}}), 202

server = make_server(app, "127.0.0.1", 0)
print(f"listening on http://127.0.0.1:{server.effective_port}/", flush=True)
server.run()
"""

LUA = """
wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-TOKEN"] = "bench-token"
"""


def _start(cmd: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    if not match:
        proc.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return proc, match.group(0)


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def _client_worker(url: str, seconds: float, connections: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    import threading

    done = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def loop() -> None:
        nonlocal done
        with httpx.Client() as client:
            while time.monotonic() < deadline:
                r = client.post(
                    url,
                    content=PAYLOAD,
                    headers={"Content-Type": "application/json", "X-API-TOKEN": "bench-token"},
                )
                if r.status_code == 202:
                    with lock:
                        done += 1

    threads = [threading.Thread(target=loop) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put(done)


def load(url: str, seconds: float, connections: int) -> tuple[int, float]:
    """``(requests answered 2xx, seconds)``."""
    wrk = shutil.which("wrk")
    if wrk:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(LUA.format(body=PAYLOAD))
        try:
            out = subprocess.run(
                [wrk, "-t2", f"-c{connections}", f"-d{int(seconds)}s", "-s", f.name, url],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        finally:
            os.unlink(f.name)
        total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        errors = re.search(r"Socket errors: .*", out)
        if bad or errors:
            print(f"  wrk: {bad.group(0) if bad else ''} {errors.group(0) if errors else ''}")
        ok = total - (int(bad.group(1)) if bad else 0)
        secs = float(re.search(r"requests in ([\d.]+)s", out).group(1))  # type: ignore[union-attr]
        return ok, secs
    procs = 4
    queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    started = time.monotonic()
    workers = [
        multiprocessing.Process(
            target=_client_worker, args=(url, seconds, connections // procs, queue)
        )
        for _ in range(procs)
    ]
    for w in workers:
        w.start()
    total = sum(queue.get() for _ in workers)
    for w in workers:
        w.join()
    return total, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    trigger = f"/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}"
    with tempfile.TemporaryDirectory() as tmp:
        workflows = Path(tmp, "workflows.toml")
        workflows.write_text(textwrap.dedent(WORKFLOWS))
        bare_script = Path(tmp, "bare.py")
        bare_script.write_text(BARE_SERVER)

        proc, base = _start([sys.executable, str(bare_script)])
        try:
            ok, secs = load(base + trigger, args.duration, args.connections)
            bare_rate = ok / secs
        finally:
            _stop(proc)

        db = str(Path(tmp, "bench.db"))
        cmd = [
            sys.executable,
            "-m",
            "connector.cli",
            "mock",
            "serve",
            "--port",
            "0",
            "--run-delay",
            "0",
            "--db",
            db,
            "--workflows",
            str(workflows),
        ]
        proc, base = _start(cmd)
        try:
            answered, elapsed = load(base + trigger, args.duration, args.connections)
            # Recorded = Succeeded run rows the admin API sees: wait_for=N answers
            # timed_out=false only once N runs have finished and are stored.
            with httpx.Client(base_url=base, timeout=60) as admin:
                runs = admin.get(
                    "/__admin/workflows/WF_bench/runs",
                    params={"limit": 0, "status": "Succeeded", "wait_for": answered, "timeout": 5},
                )
                runs.raise_for_status()
                if runs.json()["timed_out"]:
                    raise SystemExit("not every accepted event became a stored Succeeded run")
        finally:
            _stop(proc)
        recorded = _count_runs(db)  # cross-check on the file after SIGTERM flushed it
    # wrk stops counting at the deadline with up to one request per connection in flight,
    # which the server still answers and records.
    if not answered <= recorded <= answered + args.connections:
        raise SystemExit(f"answered {answered} but stored {recorded} runs")
    recorded_rate = answered / elapsed
    print(f"bare Flask endpoint (waitress): {bare_rate:8.0f} req/s")
    print(f"mock, answered 202:             {answered / elapsed:8.0f} req/s")
    print(f"mock, recorded runs:            {recorded_rate:8.0f} events/s ({recorded} runs)")
    print(f"ratio recorded / bare:          {recorded_rate / bare_rate:8.2f}")


def _count_runs(db: str) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM runs WHERE status='Succeeded'").fetchone()[0])


if __name__ == "__main__":
    main()
