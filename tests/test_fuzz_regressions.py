"""Every input a fuzzer ever crashed on (tests/fuzz/crashes/<target>/) stays handled."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parent / "fuzz"
CASES = sorted(p for p in (FUZZ / "crashes").glob("*/*") if p.is_file() and p.name != ".gitkeep")


@functools.cache
def _targets() -> dict[str, object]:
    spec = importlib.util.spec_from_file_location("fuzz_targets", FUZZ / "fuzz_targets.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.TARGETS)


def test_the_crash_corpus_is_there() -> None:
    """The replay below must have something to replay: a moved or emptied corpus fails here
    instead of passing as zero cases. Each case sits under a target that exists."""
    assert CASES, f"no saved crash under {FUZZ / 'crashes'}"
    unknown = {case.parent.name for case in CASES} - set(_targets())
    assert unknown == set(), f"crashes saved under targets that do not exist: {sorted(unknown)}"


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name[:18]}")
def test_fuzz_crashes_stay_fixed(case: Path) -> None:
    """Replays a saved crashing input through its target's oracle."""
    _targets()[case.parent.name](case.read_bytes())  # type: ignore[operator]


def test_fuzz_targets_accept_a_plain_input() -> None:
    """Each fuzz target accepts its seed inputs without tripping its own oracle."""
    targets = _targets()
    assert set(targets) == {p.name for p in (FUZZ / "seeds").iterdir()}, "a target without seeds"
    for name, target in targets.items():
        seeds = sorted((FUZZ / "seeds" / name).iterdir())
        assert seeds, f"no seed inputs for fuzz target {name!r}"
        for seed in seeds:
            target(seed.read_bytes())  # type: ignore[operator]
