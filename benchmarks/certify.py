"""Certification speed: profiles generated per second, and the wall time of `qharness certify`.

    python benchmarks/certify.py [--profiles N] [--skip-run]

Prints (1) how many AEP profiles per second ``connector.strategies.profiles`` generates for the
bundled activation, beside a baseline measured in the same run (a naive ``@st.composite`` strategy
drawing free text, the way one would first write it) and the ratio between them; and (2) the wall
time of the default ``qharness certify`` as a subprocess (bundled example, embedded mock), which
must stay under 30 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from connector.activation import Activation
from connector.cli._common import load_or_bundled
from connector.strategies import profiles


@st.composite
def naive_profiles(draw: Any, activation: Activation) -> dict[str, Any]:
    """The baseline: free text everywhere, optional parts via booleans."""
    profile: dict[str, Any] = {"identityMap": {}}
    for mapping in activation.identities:
        if draw(st.booleans()):
            profile["identityMap"][mapping.source] = [{"id": draw(st.text(min_size=1))}]
    for attribute in activation.attributes:
        if draw(st.booleans()):
            node = profile
            keys = attribute.source.split(".")
            for key in keys[:-1]:
                node = node.setdefault(key, {})
            node[keys[-1]] = draw(st.text())
    audience = draw(st.sampled_from(activation.audiences)).id
    profile["segmentMembership"] = {
        "ups": {
            audience: {
                "status": draw(st.sampled_from(["realized", "existing", "exited"])),
                "lastQualificationTime": draw(st.datetimes()).isoformat() + "Z",
            }
        }
    }
    return profile


def rate(strategy: st.SearchStrategy[Any], count: int) -> float:
    """Profiles per second Hypothesis generates from ``strategy`` (generation phase only)."""
    seen = 0

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def consume(profile: Any) -> None:
        nonlocal seen
        seen += 1

    started = time.perf_counter()
    consume()
    return seen / (time.perf_counter() - started)


def certify_command() -> list[str]:
    exe = shutil.which("qharness", path=str(Path(sys.executable).parent)) or shutil.which(
        "qharness"
    )
    if exe:
        listed = subprocess.run([exe, "--help"], capture_output=True, text=True, check=False).stdout
        if "certify" in listed:
            return [exe, "certify"]
    # Until the CLI registers the command: the same code path through main().
    shim = (
        "import sys; from connector.cli import cli, main; "
        "from connector.cli.certify import certify, contracts_group; "
        "cli.commands.setdefault('certify', certify); sys.exit(main(['certify']))"
    )
    return [sys.executable, "-c", shim]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--profiles", type=int, default=2000, help="profiles to generate per strategy"
    )
    parser.add_argument("--skip-run", action="store_true", help="only measure the strategies")
    args = parser.parse_args()
    activation = load_or_bundled(None)
    ours = rate(profiles(activation), args.profiles)
    baseline = rate(naive_profiles(activation), args.profiles)
    print(
        f"connector.strategies.profiles: {ours:,.0f} profiles/s (adversarial, bundled activation)"
    )
    print(f"baseline (naive @st.composite): {baseline:,.0f} profiles/s")
    print(f"ratio: {ours / baseline:.2f}x the baseline")
    if args.skip_run:
        return
    command = certify_command()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    wall = time.perf_counter() - started
    last = done.stdout.rstrip().split("\n")[-1] if done.stdout else done.stderr.strip()
    print(f"default `qharness certify`: {wall:.1f} s wall, exit {done.returncode}: {last}")
    print(f"budget: 30 s; used {wall / 30:.0%}")


if __name__ == "__main__":
    main()
