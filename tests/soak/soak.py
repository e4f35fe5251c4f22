"""Soak: the real mock serving several real senders under random faults, for a bounded time.

What runs: ``qharness mock serve`` in a subprocess; ``--senders`` subprocesses of
``qharness send`` (each with its own outbox), fed profile lines through stdin at ``--rate`` per
sender for ``--seconds``; seeded faults on the trigger endpoint (429 with Retry-After, 503, delays,
dropped connections). At the end:

- every event the senders accepted is in the mock's run history exactly once (events lost: 0);
- the mock's memory stayed bounded (resident size sampled each second);
- the API token appears nowhere: senders' output, reports, outboxes, the mock's output, its export.

It prints the load held (events/s), the faults injected and the events lost, and exits 1 if any
check fails. ``nox -s soak`` runs it for 120 s; CI runs a 15-second version.

    python tests/soak/soak.py [--seconds 120] [--senders 4] [--rate 10] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

import httpx

TOKEN = "soak-token-7f3a9c1e5b2d"
USER = "soak@example.com"
AUDIENCE = "046456e3-18e1-48a6-9bda-d68547861283"


def qharness(*args: str) -> list[str]:
    return [sys.executable, "-m", "connector.cli", *args]


def start_mock(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    config = workdir / "mock.toml"
    # History above what a soak sends, or the oldest runs are evicted (by design) and look lost.
    # Exactly-once is checked with the mock's idempotency-keys extension: without it a dropped
    # answer's retry makes a second run, as it would at Qualtrics.
    config.write_text(
        f'[[users]]\nusername = "{USER}"\napi_token = "{TOKEN}"\n\n'
        "[limits]\nrun_delay = 0.0\nhistory_limit = 1000000\n\n"
        "[extensions]\nidempotency_keys = true\n"
    )
    out = (workdir / "mock.out").open("wb")
    process = subprocess.Popen(
        qharness(
            "mock",
            "serve",
            "--port",
            "0",
            "--workflows",
            str(config),
            "--db",
            str(workdir / "mock.db"),
            "--run-delay",
            "0",
        ),
        stdout=subprocess.PIPE,
        stderr=out,
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode()
    if "listening on" not in line:
        process.kill()
        raise SystemExit(f"mock did not start: {line!r}")
    url = line.split("listening on ")[1].split()[0].rstrip("/")
    threading.Thread(
        target=_drain, args=(process.stdout, workdir / "mock.stdout"), daemon=True
    ).start()
    return process, url


def _drain(stream: IO[bytes], path: Path) -> None:
    with path.open("wb") as sink:
        for chunk in iter(lambda: stream.read(4096), b""):
            sink.write(chunk)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def activation_file(workdir: Path, trigger_url: str) -> Path:
    path = workdir / "activation.toml"
    path.write_text(
        f"""
[destination]
name = "soak"
url = "{trigger_url}"
username = "{USER}"
api_token_env = "QH_SOAK_TOKEN"

[[audiences]]
id = "{AUDIENCE}"

[[identities]]
source = "Email"
target = "email"

[[attributes]]
source = "person.name.firstName"
target = "person.name.firstName"
"""
    )
    return path


def profile_line(sender: int, index: int) -> bytes:
    profile = {
        "identityMap": {"Email": [{"id": f"s{sender}-{index}@example.com"}]},
        "person": {
            "name": {"firstName": f"Soak {sender}/{index} \u05e9\u05dc\u05d5\u05dd \U0001f600"}
        },
        "segmentMembership": {
            "ups": {
                AUDIENCE: {"lastQualificationTime": "2026-11-29T03:00:00Z", "status": "realized"}
            }
        },
    }
    return json.dumps(profile).encode() + b"\n"


def feed(
    process: subprocess.Popen[bytes], sender: int, rate: float, seconds: float, fed: list[int]
) -> None:
    """Write profile lines at ``rate`` per second until ``seconds`` pass, then close stdin."""
    assert process.stdin is not None
    start = time.monotonic()
    index = 0
    while time.monotonic() - start < seconds:
        due = int((time.monotonic() - start) * rate) + 1
        while index < due:
            process.stdin.write(profile_line(sender, index))
            index += 1
        process.stdin.flush()
        time.sleep(0.05)
    process.stdin.close()
    fed[sender] = index


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--senders", type=int, default=4)
    # 4 x 10/s stays under Qualtrics' 3,000 calls/min for the one user the senders share, so
    # the 429s come from the injected faults; raise it to soak the rate limit as well.
    parser.add_argument("--rate", type=float, default=10.0, help="profiles per second per sender")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fault-probability", type=float, default=0.03, help="per fault kind")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="qh-soak-") as tmp:
        workdir = Path(tmp)
        mock, url = start_mock(workdir)
        problems: list[str] = []
        try:
            problems = run(args, workdir, mock, url)
        finally:
            mock.terminate()
            mock.wait(timeout=30)
        leaks = [
            p.name
            for p in workdir.rglob("*")
            if p.is_file() and TOKEN.encode() in p.read_bytes() and p.name != "mock.toml"
        ]
        if leaks:
            problems.append(f"the API token leaked into: {', '.join(sorted(leaks))}")
        print("soak " + ("FAILED:\n  " + "\n  ".join(problems) if problems else "passed"))
        return 1 if problems else 0


def run(
    args: argparse.Namespace, workdir: Path, mock: subprocess.Popen[bytes], url: str
) -> list[str]:
    admin = httpx.Client(base_url=url, timeout=60)
    workflow = admin.post(
        "/__admin/workflows",
        json={
            "name": "soak",
            "owner": USER,
            "fields": [
                {"name": "email", "jsonpath": "$.identityMap.Email[0].id", "required": True},
                {"name": "firstName", "jsonpath": "$.person.name.firstName", "required": False},
            ],
        },
    ).json()
    p, seed = args.fault_probability, args.seed
    for offset, fault in enumerate(
        [
            {"status": 429, "retry_after": 1},
            {"status": 503},
            {"delay_ms": 300},
            {"drop_connection": True},
        ]
    ):
        admin.post(
            "/__admin/faults",
            json={**fault, "probability": p, "seed": seed + offset, "count": None},
        ).raise_for_status()

    activation = activation_file(workdir, workflow["trigger_url"])
    env = {**os.environ, "QH_SOAK_TOKEN": TOKEN}
    senders: list[subprocess.Popen[bytes]] = []
    for sender in range(args.senders):
        senders.append(
            subprocess.Popen(
                qharness(
                    "send",
                    str(activation),
                    "-",
                    "--state",
                    str(workdir / f"state-{sender}"),
                    "--report-json",
                    str(workdir / f"report-{sender}.json"),
                    "--allow-http-loopback",
                ),
                stdin=subprocess.PIPE,
                stdout=(workdir / f"sender-{sender}.out").open("wb"),
                stderr=(workdir / f"sender-{sender}.err").open("wb"),
                env=env,
            )
        )
    fed = [0] * args.senders
    feeders = [
        threading.Thread(target=feed, args=(process, n, args.rate, args.seconds, fed))
        for n, process in enumerate(senders)
    ]
    start = time.monotonic()
    for thread in feeders:
        thread.start()
    memory: list[float] = []
    while any(thread.is_alive() for thread in feeders):
        memory.append(rss_mb(mock.pid))
        time.sleep(1)
    for thread in feeders:
        thread.join()
    codes = [process.wait(timeout=300) for process in senders]
    elapsed = time.monotonic() - start
    memory.append(rss_mb(mock.pid))

    problems: list[str] = []
    for sender, code in enumerate(codes):
        if code != 0:
            err = (workdir / f"sender-{sender}.err").read_text(errors="replace")[-500:]
            problems.append(f"sender {sender} exited {code}: {err}")
    expected = {f"s{s}-{i}@example.com" for s in range(args.senders) for i in range(fed[s])}
    accepted = sum(_report(workdir, s).get("identities_activated", 0) for s in range(args.senders))
    runs = admin.get(
        f"/__admin/workflows/{workflow['id']}/runs",
        params={"limit": 1_000_000, "wait_for": len(expected), "timeout": 30},
    ).json()["runs"]
    seen: dict[str, int] = {}
    for run in runs:
        email = (run.get("fields") or {}).get("email")
        seen[email] = seen.get(email, 0) + 1
        if run["status"] != "Succeeded":
            problems.append(f"run {run['id']} is {run['status']}: {run.get('error')}")
    lost = sorted(expected - set(seen))
    doubled = sorted(e for e, n in seen.items() if n > 1)
    events = admin.get("/__admin/events", params={"limit": 1_000_000}).json()["events"]
    faults = sum(1 for e in events if e["outcome"] == "fault")
    (workdir / "export.ndjson").write_bytes(admin.get("/__admin/export").content)

    settled = memory[len(memory) // 4] if len(memory) > 4 else memory[0]
    print(
        f"senders: {args.senders}, profiles fed: {len(expected):,}, accepted by senders: {accepted:,}"
    )
    print(f"load held: {len(runs) / elapsed:,.1f} events/s over {elapsed:.0f} s")
    print(f"faults injected: {faults:,} of {len(events):,} trigger requests")
    print(f"events lost: {len(lost)}, duplicated runs: {len(doubled)}")
    print(
        f"mock memory: {memory[0]:.0f} MB at start, {settled:.0f} MB settled, {max(memory):.0f} MB peak, {memory[-1]:.0f} MB at end"
    )
    if lost:
        problems.append(f"{len(lost)} events lost, e.g. {lost[:3]}")
    if doubled:
        problems.append(f"{len(doubled)} events ran twice, e.g. {doubled[:3]}")
    if accepted != len(expected):
        problems.append(f"senders accepted {accepted} of {len(expected)} profiles")
    if memory[-1] > settled * 1.5 + 64:
        problems.append(f"mock memory grew from {settled:.0f} MB to {memory[-1]:.0f} MB")
    return problems


def _report(workdir: Path, sender: int) -> dict[str, Any]:
    path = workdir / f"report-{sender}.json"
    return json.loads(path.read_text()) if path.exists() else {}


if __name__ == "__main__":
    sys.exit(main())
