"""Start-up time of ``qharness -V`` and ``qharness --help``, lazy commands against eager ones.

Both are measured in the same run, in fresh interpreters: "lazy" is the real entry point
(commands imported only when they run); "eager" first imports every command module, as the CLI
did before its lazy group (Hypothesis, Flask and waitress included); "python" is a bare
interpreter, the floor. The figures are informational: nothing here fails a build.

    python benchmarks/cli_startup.py [--rounds R]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from connector.cli import COMMANDS

EAGER = "; ".join(
    f"import {target.split(':')[0]}" for target in sorted({c.target for c in COMMANDS.values()})
)


def best_seconds(code: str, rounds: int) -> float:
    """Wall time of the fastest of ``rounds`` fresh interpreters running ``code``."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args, _ = parser.parse_known_args()
    floor = best_seconds("pass", args.rounds)
    print(f"cli_startup: bare python {floor * 1000:.0f} ms (informational)")
    for flag in ("-V", "--help"):
        run = f"from connector.cli import main; main([{flag!r}])"
        lazy = best_seconds(run, args.rounds)
        eager = best_seconds(f"{EAGER}; {run}", args.rounds)
        print(
            f"cli_startup: qharness {flag}: lazy {lazy * 1000:.0f} ms, "
            f"eager (before) {eager * 1000:.0f} ms, {eager / lazy:.1f}x faster (informational)"
        )


if __name__ == "__main__":
    main()
