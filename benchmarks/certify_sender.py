"""Wall time of a default `qharness certify-sender` over the well-behaved example sender.

    python benchmarks/certify_sender.py [--seed S] [--policies]

Runs, as subprocesses, (1) the baseline: the same sender and profiles with a scenario of no
faults (what generating, serving, running and grading cost by themselves), then (2) the default
run (50 profiles, the bundled fault scenario). Prints both wall times, their ratio, and the
default run's share of its 30 s budget on a 2-core machine. The default scenario's Retry-After
waits (2 s + 1 s) are real seconds: the well-behaved sender honours them.

With ``--policies`` (slow: about 3 minutes) it also runs our connector as the sender,
``qharness send --retry-policy harness|aep``, under the default scenario and the 50 s outage of
``examples/senders/outage-scenario.toml``, and prints each verdict, the sender's time and its last
line: the README's comparison of what Adobe's policy loses.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENDER = ROOT / "examples" / "senders" / "well_behaved.py"


OUTAGE = ROOT / "examples" / "senders" / "outage-scenario.toml"
ONE_LINER = 'qharness send "$QHARNESS_ACTIVATION" "$QHARNESS_PROFILES" --allow-http-loopback'


def timed(extra: list[str], seed: int, sender: list[str] | None = None) -> tuple[float, str, int]:
    command = [
        sys.executable, "-m", "connector.cli", "certify-sender", "--seed", str(seed), *extra,
        "--", *(sender or [sys.executable, str(SENDER)]),
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    wall = time.perf_counter() - started
    last = done.stdout.rstrip().split("\n")[-1] if done.stdout else done.stderr.strip()
    return wall, last, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--policies", action="store_true", help="also compare retry policies")
    args, _ = parser.parse_known_args()
    with tempfile.TemporaryDirectory() as work:
        quiet = Path(work, "no-faults.toml")
        quiet.write_text('name = "no faults"\n')
        base, base_last, _ = timed(["--scenario", str(quiet)], args.seed)
        wall, last, code = timed([], args.seed)
    print(f"baseline (50 profiles, no faults): {base:.1f} s wall: {base_last}")
    print(f"default `certify-sender` (50 profiles, bundled scenario): {wall:.1f} s wall, "
          f"exit {code}: {last}")  # fmt: skip
    print(f"ratio: {wall / base:.2f}x the baseline")
    print(f"budget: 30 s; used {wall / 30:.0%}")
    if args.policies:
        compare_policies(args.seed)


def compare_policies(seed: int) -> None:
    for name, extra in (("default", []), ("outage", ["--scenario", str(OUTAGE)])):
        for policy in ("harness", "aep"):
            with tempfile.TemporaryDirectory() as state:
                sender = ["sh", "-c", f"{ONE_LINER} --retry-policy {policy} --state {state}"]
                wall, last, code = timed([*extra, "--timeout", "400"], seed, sender)
            print(f"{name} scenario, --retry-policy {policy}: {wall:.1f} s, exit {code}: {last}")


if __name__ == "__main__":
    main()
