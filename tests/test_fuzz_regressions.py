"""Every input a fuzzer ever crashed on (tests/fuzz/crashes/<target>/) stays handled."""

from __future__ import annotations

import importlib.util
from pathlib import Path

FUZZ = Path(__file__).resolve().parent / "fuzz"
CASES = sorted(p for p in (FUZZ / "crashes").glob("*/*") if p.is_file() and p.name != ".gitkeep")


def _targets() -> dict[str, object]:
    spec = importlib.util.spec_from_file_location("fuzz_targets", FUZZ / "fuzz_targets.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.TARGETS)


def test_fuzz_crashes_stay_fixed() -> None:
    """Replays every saved crashing input through its target's oracle."""
    targets = _targets()
    for case in CASES:
        targets[case.parent.name](case.read_bytes())  # type: ignore[operator]


def test_fuzz_targets_accept_a_plain_input() -> None:
    """Each fuzz target accepts its seed inputs without tripping its own oracle."""
    for name, target in _targets().items():
        seeds = sorted((FUZZ / "seeds" / name).iterdir())
        assert seeds, f"no seed inputs for fuzz target {name!r}"
        for seed in seeds:
            target(seed.read_bytes())  # type: ignore[operator]
