"""Activation loading at scale: 2,500 to 10,000 attribute mappings, beside parsing alone.

    python benchmarks/activation_load.py [--sizes 2500 5000 10000] [--rounds 3]

For each size, the wall time of ``connector.activation.parse_activation`` (schema validation,
target clash checks, governance, workflow-field derivation) beside ``tomllib.loads`` of the same
bytes, the unavoidable baseline measured in the same run. Loading must stay O(n log n) or better:
the ratio to the baseline may not grow with n (it grew 4x per doubling when clash checks were
quadratic), and 10,000 attributes must load in under 1 s. BELOW TARGET marks a miss.
"""

from __future__ import annotations

import argparse
import time
import tomllib
from collections.abc import Callable

from connector.activation import parse_activation

HEAD = """[destination]
name = "scale"
url = "https://iad1.qualtrics.com/inbound-event/v1/events/json/triggers?urlTokenId=x"
username = "u"
api_token_env = "T"

[[audiences]]
id = "046456e3-18e1-48a6-9bda-d68547861283"

[[identities]]
source = "Email"
target = "email"
"""


def activation(size: int) -> bytes:
    """``size`` attribute mappings, nested two deep under 50 groups (prefixes shared)."""
    body = "".join(
        f'[[attributes]]\nsource = "source.f{i}"\ntarget = "group{i % 50}.field{i}"\n'
        for i in range(size)
    )
    return (HEAD + body).encode()


def best(work: Callable[[], object], rounds: int) -> float:
    """Seconds of the fastest of ``rounds`` runs (the least disturbed by the machine)."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2500, 5000, 10000])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    first_ratio = None
    for size in args.sizes:
        data = activation(size)
        parse = best(lambda data=data: tomllib.loads(data.decode()), args.rounds)
        load = best(lambda data=data: parse_activation(data), args.rounds)
        ratio = load / parse
        first_ratio = first_ratio or ratio
        growth = ratio / first_ratio
        verdict = "ok"
        if (size >= 10_000 and load >= 1.0) or growth > 2.0:
            verdict = "BELOW TARGET"
        print(
            f"{size:>6} attributes: load {load:6.3f} s, toml parse {parse:6.3f} s, "
            f"ratio {ratio:5.1f}x (x{growth:.2f} of the smallest size's)  {verdict}"
        )


if __name__ == "__main__":
    main()
