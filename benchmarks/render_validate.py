"""Profiles per second through load + render + validate + serialize, beside ``json.dumps``.

Both are measured in the same run on the same payloads, so the ratio means something on any
machine: the pipeline parses each profile line (orjson), renders it, checks the payload against
the event contract (jsonschema-rs) and serializes it; the baseline only ``json.dumps`` the
finished payloads. Target: the pipeline at >= 50% of the baseline's rate. A third line shows the
rate for lines holding numbers orjson would rewrite (``1.50``, 30-digit integers), which take the
exact, stdlib-based parse (``connector.exactjson``).

    python benchmarks/render_validate.py [--profiles N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import orjson

from connector.activation import parse_activation
from connector.example import bundled_activation_bytes
from connector.profiles import parse_line
from connector.render import Payload, Renderer
from connector.sample import sample_profiles


def best_rates(works: list[Callable[[], int]], rounds: int) -> list[float]:
    """Items per second of each workload's fastest run; the workloads take turns each round, so
    that a busy moment on a shared machine disturbs them alike rather than one of them."""
    best = [0.0] * len(works)
    for _ in range(rounds):
        for index, work in enumerate(works):
            start = time.perf_counter()
            items = work()
            best[index] = max(best[index], items / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    activation = parse_activation(bundled_activation_bytes())
    renderer = Renderer(activation)
    count = min(args.profiles, 1000)
    lines = [orjson.dumps(p) for p in sample_profiles(activation, count, seed=1)] * max(
        1, args.profiles // count
    )
    rendered = [renderer.render(parse_line(line)) for line in lines]
    payloads = [r.document for r in rendered if isinstance(r, Payload)]
    assert len(payloads) == len(lines), "every sample profile should render"
    size = sum(len(orjson.dumps(p)) for p in payloads) / len(payloads)

    def pipeline() -> int:
        for line in lines:
            result = renderer.render(parse_line(line))
            assert isinstance(result, Payload)
            _ = result.body
        return len(lines)

    def baseline() -> int:
        for payload in payloads:
            json.dumps(payload)
        return len(payloads)

    # The same profiles carrying a number orjson would rewrite: the exact (stdlib) parse path.
    exact_lines = [
        line[:-1] + b',"loyalty":{"points":1.50,"id":123456789012345678901234567890}}'
        for line in lines
    ]

    def exact_pipeline() -> int:
        for line in exact_lines:
            result = renderer.render(parse_line(line))
            assert isinstance(result, Payload)
        return len(exact_lines)

    base, ours, exact = best_rates([baseline, pipeline, exact_pipeline], args.rounds)
    print(f"payloads: {len(payloads)} x {size:,.0f} bytes on average")
    print(f"json.dumps of the payloads:           {base:>10,.0f} /s  (baseline)")
    print(
        f"load + render + validate + serialize: {ours:>10,.0f} /s  ({ours / base:.0%} of baseline; target >= 50%)"
        + ("" if ours >= 0.5 * base else "  BELOW TARGET")
    )
    print(
        f"the same, with numbers kept as text:  {exact:>10,.0f} /s  ({exact / base:.0%} of baseline; "
        "the exact parse path, for lines orjson would change)"
    )


if __name__ == "__main__":
    main()
