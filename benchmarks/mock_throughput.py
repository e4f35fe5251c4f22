"""Sustained recorded events per second and p99 of the mock on a growing history, beside
baselines measured in the same run.

Each server gets the same sustained load: ``--windows`` back-to-back ``wrk`` runs of
``--window`` seconds (default 6 x 10 s = 60 s, 32 connections, Debian's ``wrk``), each window
reported, so a decline as the history grows shows (first and last window, their ratio):

- the mock as ``qharness mock serve`` with every feature on and ``history_limit`` raised (the
  history grows through the whole run; the journal fills to its default 100,000 and then evicts):
  a file database and durable 202s, auth, limits, fields extracted, raw payloads kept,
  ``duplicate_of`` lookups, the idempotency extension, runs queued for the default 0.5 s. After
  the load, the run list (100 runs) and the UI's workflow page are timed on that history;
- a bare Flask endpoint doing one SQLite insert per request on gunicorn with 2 sync workers;
- WireMock 3.13.2 answering 202 from a stub, twice: its request journal bounded
  (``--max-request-journal-entries 10000``) and at its default (unbounded: it grows with the heap
  and collapses), when ``java`` and the npm package ``wiremock`` are present (``$WIREMOCK_JAR``,
  or ``node_modules/wiremock/build/*.jar`` here or in ``$WIREMOCK_HOME``); otherwise skipped
  with the reason printed.

"Recorded" counts what is on disk or in the journal (the mock: Succeeded runs; gunicorn: rows;
WireMock: its journal, where bounded the 2xx answers). Beside each rate, the server's CPU time
per event (from ``/proc``): on a shared box the rates swing with the load, CPU per event much
less. Targets: last window >= 0.9x the first; mean >= 1.0x bounded WireMock and >= 0.6x the
gunicorn endpoint; p99 <= 50 ms. A miss prints BELOW TARGET; informational, never a failure.
The run list and UI page at 1M runs: ``benchmarks/mock_history_scale.py``.

    python benchmarks/mock_throughput.py [--windows 6] [--window 10] [--connections 32] [--quick]
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import httpx

TOKEN_ID = "5f0c6c0e-8a47-4c1b-9d52-0b7c2a61d9e3"  # noqa: S105 - a test URL token
TRIGGER = f"/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}"
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

[extensions]
idempotency_keys = true
"""
BARE_APP = """
import os, sqlite3
from flask import Flask, request

app = Flask("bare")
_db = None

def db():
    global _db
    if _db is None:  # one connection per gunicorn worker process
        _db = sqlite3.connect(os.environ["BENCH_DB"], isolation_level=None)
        _db.execute("PRAGMA journal_mode=WAL")
        _db.execute("PRAGMA synchronous=NORMAL")  # the mock's durability: survives kill -9
        _db.execute("PRAGMA busy_timeout=10000")
    return _db

@app.post("/inbound-event/v1/events/json/triggers")
def trigger():
    db().execute("INSERT INTO events (body) VALUES (?)", (request.get_data(),))
    return {"result": {}, "meta": {"httpStatus": "202 - Accepted"}}, 202
"""
WIREMOCK_STUB = """{
  "request": {"method": "POST", "urlPathPattern": "/inbound-event/v1/events/json/triggers"},
  "response": {"status": 202, "headers": {"Content-Type": "application/json"},
               "body": "{\\"result\\":{},\\"meta\\":{\\"httpStatus\\":\\"202 - Accepted\\"}}"}
}"""
LUA = """
wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-TOKEN"] = "bench-token"
"""


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` and of its live children (gunicorn's workers);
    0 where there is no ``/proc``."""
    total = 0.0
    try:
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(entry.name) == pid or int(fields[1]) == pid:
                total += (int(fields[11]) + int(fields[12])) / _TICK
    except OSError:
        return 0.0
    return total


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}: {url}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"server did not start: {url}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wrk(
    url: str, seconds: float, connections: int, pid: int | None = None
) -> tuple[int, float, float, float]:
    """``(2xx answers, seconds, p99 ms, CPU seconds of server pid)`` from one wrk run."""
    cpu_before = _cpu_seconds(pid) if pid is not None else 0.0
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA.format(body=PAYLOAD))
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{int(seconds)}s",
                "--latency",
                "-s",
                f.name,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(f.name)
    cpu = _cpu_seconds(pid) - cpu_before if pid is not None else 0.0
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    if bad or errors:
        print(f"  wrk: {bad.group(0) if bad else ''} {errors.group(0) if errors else ''}")
    secs = float(re.search(r"requests in ([\d.]+)(m?s)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p99_ms = float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
    return total - (int(bad.group(1)) if bad else 0), secs, p99_ms, cpu


Result = tuple[float, float, float]  # recorded events/s, p99 ms, CPU microseconds per event
Windows = list[Result]


def sustained(url: str, windows: int, seconds: float, connections: int, pid: int) -> Windows:
    """``windows`` back-to-back wrk runs against ``url``, each as answered events/s, p99, CPU."""
    out: Windows = []
    for n in range(windows):
        answered, secs, p99, cpu = wrk(url, seconds, connections, pid)
        out.append((answered / secs, p99, _per_event(cpu, answered)))
        print(
            f"    window {n + 1}: {out[-1][0]:7.0f}/s, p99 {p99:6.1f} ms,"
            f" {out[-1][2]:5.0f} us CPU/event, load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    return out


def _median_ms(url: str, repeat: int = 7) -> float:
    times = []
    with httpx.Client(timeout=60) as client:
        for _ in range(repeat):
            started = time.perf_counter()
            client.get(url).raise_for_status()
            times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2] * 1000


def bench_mock(tmp: Path, windows: int, seconds: float, connections: int) -> Windows:
    (tmp / "workflows.toml").write_text(WORKFLOWS)
    db = tmp / "mock.db"
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "connector.cli",
            "mock",
            "serve",
            "--port",
            str(port),
            "--db",
            str(db),
            "--workflows",
            str(tmp / "workflows.toml"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    print("  mock (qharness mock serve):", flush=True)
    try:
        _wait_up(base + "/__admin/health", proc)
        result = sustained(base + TRIGGER, windows, seconds, connections, proc.pid)
        time.sleep(1)  # the last queued runs finish (run delay 0.5 s)
        listing = _median_ms(base + "/__admin/workflows/WF_bench/runs?limit=100")
        page = _median_ms(base + "/workflows/WF_bench?view=all")
    finally:
        _stop(proc)  # SIGTERM finishes queued runs and flushes the file
    with closing(sqlite3.connect(db)) as conn:
        recorded = int(
            conn.execute("SELECT COUNT(*) FROM runs WHERE status='Succeeded'").fetchone()[0]
        )
    answered = sum(rate for rate, _, _ in result) * seconds
    print(
        f"    after the load ({recorded:,} runs kept): run list {listing:.1f} ms"
        f" (target < 200), UI page {page:.1f} ms (target < 500)"
    )
    if recorded < answered * 0.99:  # wrk's own rounding of its duration aside
        raise SystemExit(f"the mock answered ~{answered:.0f} 202s but stored {recorded} runs")
    return result


def _per_event(cpu: float, events: int) -> float:
    return cpu / events * 1e6 if events and cpu else float("nan")


def bench_gunicorn(tmp: Path, windows: int, seconds: float, connections: int) -> Windows | str:
    if shutil.which("gunicorn", path=os.path.dirname(sys.executable)) is None and not _has(
        "gunicorn"
    ):
        return "gunicorn is not installed (pip install gunicorn)"
    (tmp / "bare_app.py").write_text(BARE_APP)
    db = tmp / "bare.db"
    with closing(sqlite3.connect(db)) as conn, conn:  # closed, and committed first
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, body BLOB)")
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "2",
            "-k",
            "sync",
            "-b",
            f"127.0.0.1:{port}",
            "--chdir",
            str(tmp),
            "bare_app:app",
        ],
        env={**os.environ, "BENCH_DB": str(db)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    print("  bare Flask + SQLite on gunicorn:", flush=True)
    try:
        _wait_up(base + "/", proc)
        result = sustained(base + TRIGGER, windows, seconds, connections, proc.pid)
    finally:
        _stop(proc)
    with closing(sqlite3.connect(db)) as conn:
        recorded = int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    if recorded < sum(rate for rate, _, _ in result) * seconds * 0.99:
        raise SystemExit(f"gunicorn stored only {recorded} rows")
    return result


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _wiremock_jar() -> str | None:
    if os.environ.get("WIREMOCK_JAR"):
        return os.environ["WIREMOCK_JAR"]
    for home in (os.environ.get("WIREMOCK_HOME", ""), os.getcwd()):
        found = sorted(glob.glob(os.path.join(home, "node_modules", "wiremock", "build", "*.jar")))
        if found:
            return found[-1]
    return None


_WIREMOCK = ("--disable-banner", "--async-response-enabled", "false")


def bench_wiremock(
    tmp: Path, windows: int, seconds: float, connections: int, journal: int | None
) -> Windows | str:
    """WireMock under the same windows, its journal bounded at ``journal`` entries (or not)."""
    if shutil.which("java") is None:
        return "java is not installed"
    jar = _wiremock_jar()
    if jar is None:
        return "the npm package wiremock is not installed (npm install wiremock@3.13.2)"
    root = tmp / f"wiremock-{journal}"
    (root / "mappings").mkdir(parents=True)
    (root / "mappings" / "trigger.json").write_text(WIREMOCK_STUB)
    port = _free_port()
    bound = [] if journal is None else ["--max-request-journal-entries", str(journal)]
    proc = subprocess.Popen(
        [*("java", "-jar", jar, "--port", str(port), "--root-dir", str(root)), *_WIREMOCK, *bound],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    print(f"  WireMock, journal {journal or 'unbounded (default)'}:", flush=True)
    try:
        _wait_up(base + "/__admin/health", proc, seconds=120)
        wrk(base + TRIGGER, 2, connections)  # the JVM's warm-up, not measured
        httpx.post(base + "/__admin/requests/reset")
        return sustained(base + TRIGGER, windows, seconds, connections, proc.pid)
    finally:
        _stop(proc)


def _ratio(name: str, value: float, target: float) -> None:
    verdict = "" if value >= target else "  BELOW TARGET"
    print(f"  {name}: {value:.2f}x (target >= {target:g}x){verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=6)
    parser.add_argument("--window", type=float, default=10.0, help="seconds per window")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 windows of 3 s")
    args = parser.parse_args()
    windows, seconds = (2, 3.0) if args.quick else (args.windows, args.window)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    print(
        f"{windows} windows of {seconds:g} s, {args.connections} connections, one server at a time"
    )
    print(f"load average {os.getloadavg()[0]:.1f} (the machine is shared: ratios matter)")
    c = args.connections
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        mock = bench_mock(tmp, windows, seconds, c)
        bare = bench_gunicorn(tmp, windows, seconds, c)
        bounded = bench_wiremock(tmp, windows, seconds, c, 10_000)
        unbounded = bench_wiremock(tmp, windows, seconds, c, None)
    _row("mock (qharness mock serve, every feature, durable 202)", mock)
    _row("bare Flask + SQLite on gunicorn (2 sync workers)", bare)
    _row("WireMock 3.13.2, journal bounded at 10,000", bounded)
    _row("WireMock 3.13.2, default (unbounded) journal", unbounded)
    print(f"targets (informational, {c} connections, load average {os.getloadavg()[0]:.1f}):")
    _ratio("mock last window / first window", mock[-1][0] / mock[0][0], 0.9)
    rate = _mean(mock)
    if not isinstance(bare, str):
        _ratio("mock / gunicorn endpoint", rate / _mean(bare), 0.6)
    if not isinstance(bounded, str):
        _ratio("mock / WireMock (bounded journal)", rate / _mean(bounded), 1.0)
    if not isinstance(unbounded, str):
        print(f"  mock / WireMock (default journal): {rate / _mean(unbounded):.2f}x")
    worst = max(p99 for _, p99, _ in mock)
    verdict = "" if worst <= 50 else "  BELOW TARGET"
    print(f"  mock p99, worst window: {worst:.1f} ms (target <= 50 ms){verdict}")


def _mean(windows: Windows) -> float:
    return sum(rate for rate, _, _ in windows) / len(windows)


def _row(name: str, result: Windows | str) -> None:
    if isinstance(result, str):
        print(f"{name}: skipped: {result}")
        return
    first, last = result[0][0], result[-1][0]
    p99 = max(p for _, p, _ in result)
    cpu = sum(c for _, _, c in result) / len(result)
    print(
        f"{name:56} {_mean(result):7.0f} events/s ({first:.0f} -> {last:.0f}),"
        f" p99 <= {p99:6.1f} ms, {cpu:5.0f} us CPU/event"
    )


if __name__ == "__main__":
    main()
