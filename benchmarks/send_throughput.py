"""Events/s delivered *durably* into the mock, beside a bare httpx loop, measured in one run.

The mock runs in its own process (so it does not share a GIL with the sender), with its rate
limits lifted and run delay 0. Two workloads post the same rendered payloads to it:

* baseline: one ``httpx.Client`` posting each body in a plain loop (no outbox, no retries);
* connector: ``connector.delivery.deliver`` with the rate limit lifted, through the SQLite
  outbox (WAL, ``synchronous=FULL``): every event committed before it is sent and after its 2xx.

Prints both rates and their ratio for each ``max_in_flight`` tried. Targets: >= 500 events/s and
>= 40% of the bare loop. ``--events N`` bounds the run (default 2000 per measurement).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from connector.activation import load_activation
from connector.delivery import DeliveryOptions, deliver
from connector.render import Payload, Renderer
from connector.sample import sample_profiles

REPO = Path(__file__).resolve().parent.parent
USER = "bench@example.com"
TOKEN = "bench-token"  # noqa: S105 - a throwaway user on a throwaway mock
SERVE = """
import sys
from mock_qualtrics import LiveMock
live = LiveMock({"RATE_LIMIT": 10**9, "DAILY_RUN_LIMIT": 10**9, "PAYLOAD_STORAGE": "none",
                 "HISTORY_LIMIT": 10**6, "JOURNAL_LIMIT": 10**6}).start()
print(live.url, flush=True)
sys.stdin.read()
live.stop()
"""


def start_mock() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        process.kill()
        raise SystemExit(f"the mock did not start (got {url!r})")
    return process, url


def new_workflow(admin: httpx.Client, name: str) -> str:
    answer = admin.post("/__admin/workflows", json={"name": name, "owner": USER})
    answer.raise_for_status()
    return str(answer.json()["trigger_url"])


def bare_loop(url: str, bodies: list[bytes], tag: str) -> float:
    """Events/s of the simplest correct client: one connection, one POST after another."""
    with httpx.Client(auth=(USER, TOKEN), timeout=15.0) as client:
        started = time.perf_counter()
        for index, body in enumerate(bodies):
            response = client.post(
                url,
                content=body,
                headers={"Content-Type": "application/json", "Idempotency-Key": f"{tag}-{index}"},
            )
            assert response.status_code == 202, response.status_code
        return len(bodies) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, nargs="*", default=[1, 4, 10])
    args = parser.parse_args()

    activation = load_activation(REPO / "examples" / "activation.toml")
    renderer = Renderer(activation)
    profiles: list[dict[str, Any]] = []
    seed = 0
    while len(profiles) < args.events:  # sample_profiles hands out at most 1000 per call
        profiles += sample_profiles(activation, min(1000, args.events - len(profiles)), seed=seed)
        seed += 1
    # Distinct identities across seeds: make every email unique.
    for index, profile in enumerate(profiles):
        profile["identityMap"]["Email"][0]["id"] = f"bench.{index}@example.com"
    bodies = [r.body for r in map(renderer.render, profiles) if isinstance(r, Payload)]

    process, base = start_mock()
    try:
        with httpx.Client(base_url=base, timeout=30.0) as admin:
            admin.post(
                "/__admin/users", json={"username": USER, "api_token": TOKEN}
            ).raise_for_status()
            bare_loop(new_workflow(admin, "warm-up"), bodies[:200], "warm")
            print(f"{len(bodies)} events per measurement; mock at {base} (separate process)")
            for in_flight in args.in_flight:
                baseline = bare_loop(
                    new_workflow(admin, f"bare-{in_flight}"), bodies, f"b{in_flight}"
                )
                url = new_workflow(admin, f"connector-{in_flight}")
                with tempfile.TemporaryDirectory() as state:
                    started = time.perf_counter()
                    report = deliver(
                        activation,
                        profiles,
                        token=TOKEN,
                        state_dir=Path(state),
                        options=DeliveryOptions(
                            url=url,
                            username=USER,
                            allow_http_loopback=True,
                            rate_limit=None,
                            max_in_flight=in_flight,
                        ),
                    )
                    elapsed = time.perf_counter() - started
                assert report.delivered == len(bodies), report.as_dict()
                rate = report.delivered / elapsed
                verdict = (
                    "ok"
                    if rate >= 500 and rate >= 0.4 * baseline
                    else "below target (informational)"
                )
                print(
                    f"max_in_flight={in_flight:>2}: connector {rate:7.0f} events/s (durable) | "
                    f"bare httpx loop {baseline:7.0f} events/s | ratio {rate / baseline:5.2f} | {verdict}"
                )
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    main()
