"""Mutation testing of the rule modules: ``nox -s mutate [-- MODULE...]``.

Each module in ``targets.toml`` is mutated (``mutants.py``) and every mutant runs against that
module's own tests only, in a copy of the checkout (the working tree is never edited), within a
timeout derived from the unmutated run. A mutant that no test reaches (coverage of the unmutated
run) survives without running. Mutants listed in ``equivalents.toml`` (reviewed, one reason
each) are left out of the score. Prints a score table and every survivor's diff; exits 1 if a
module scores below ``--floor`` (90%), 2 on a usage error.

    python tests/mutation/run.py connector/delivery/ratelimit.py --jobs 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutants import Mutant, mutants_of

__all__ = ["main"]

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
_COPY_IGNORE = shutil.ignore_patterns(
    ".venv",
    ".git",
    ".nox",
    ".mutation",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    "*.egg-info",
)


@dataclass(slots=True)
class Outcome:
    mutant: Mutant
    status: str  # killed | survived | timeout | uncovered | equivalent
    seconds: float


def _load_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        print(f"{path.relative_to(REPO)}: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


def _pytest_cmd(tests: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", "-x", "-q", "--no-header", "-p", "no:cacheprovider",
            "-p", "no:randomly", "-o", "addopts=-p no:schemathesis", *tests]  # fmt: skip


def _env(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    # The copy comes first on sys.path, ahead of any installed (or editable) qualtrics-harness.
    env["PYTHONPATH"] = str(copy) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("HYPOTHESIS_PROFILE", "default")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _make_copy(root: Path, name: str) -> Path:
    copy = root / name
    shutil.copytree(REPO, copy, ignore=_COPY_IGNORE)
    probe = subprocess.run(
        [sys.executable, "-c", "import connector, mock_qualtrics; print(connector.__file__)"],
        cwd=copy, env=_env(copy), capture_output=True, text=True, check=False,
    )  # fmt: skip
    if not probe.stdout.strip().startswith(str(copy)):
        print(f"the copy is not what gets imported ({probe.stdout.strip()})", file=sys.stderr)
        raise SystemExit(2)
    return copy


def _covered_lines(copy: Path, module: str, tests: list[str]) -> tuple[set[int], float]:
    """Run the unmutated tests under coverage: the lines they reach, and how long they take."""
    data = copy / ".coverage.mutation"
    rc = (
        copy / ".coveragerc.mutation"
    )  # not pyproject's settings (parallel files, subprocess patch)
    rc.write_text("[run]\nbranch = false\n", encoding="utf-8")
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "coverage", "run", f"--rcfile={rc}", f"--data-file={data}", f"--include={copy / module}",
         "-m", "pytest", *_pytest_cmd(tests)[3:]],
        cwd=copy, env=_env(copy), capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - started
    if run.returncode != 0:
        print(run.stdout[-3000:], run.stderr[-2000:], sep="\n", file=sys.stderr)
        print(f"{module}: its tests fail before any mutation; fix them first", file=sys.stderr)
        raise SystemExit(1)
    out = copy / ".coverage.mutation.json"
    subprocess.run(
        [sys.executable, "-m", "coverage", "json", f"--rcfile={rc}", f"--data-file={data}",
         "-o", str(out), "--quiet"],
        cwd=copy, env=_env(copy), capture_output=True, text=True, check=True,
    )  # fmt: skip
    files = json.loads(out.read_text(encoding="utf-8")).get("files", {})
    lines: set[int] = set()
    for info in files.values():
        lines.update(info.get("executed_lines", []))
    return lines, seconds


def _run_mutant(copy: Path, mutant: Mutant, tests: list[str], timeout: float) -> Outcome:
    target = copy / mutant.module
    original = target.read_text(encoding="utf-8")
    started = time.monotonic()
    try:
        target.write_text(mutant.source, encoding="utf-8")
        try:
            run = subprocess.run(
                _pytest_cmd(tests), cwd=copy, env=_env(copy), capture_output=True, timeout=timeout,
                check=False, start_new_session=True,
            )  # fmt: skip
            status = "survived" if run.returncode == 0 else "killed"
        except subprocess.TimeoutExpired:
            status = "timeout"
    finally:
        target.write_text(original, encoding="utf-8")
    return Outcome(mutant, status, time.monotonic() - started)


def _mutate_module(
    module: str, tests: list[str], equivalents: dict[str, str], copies: list[Path]
) -> list[Outcome]:
    source = (REPO / module).read_text(encoding="utf-8")
    mutants = mutants_of(module, source)
    covered, baseline = _covered_lines(copies[0], module, tests)
    timeout = max(20.0, 4 * baseline)
    outcomes: list[Outcome] = []
    pending: list[Mutant] = []
    for mutant in mutants:
        if mutant.ident in equivalents:
            outcomes.append(Outcome(mutant, "equivalent", 0.0))
        elif mutant.statement_line not in covered and mutant.line not in covered:
            outcomes.append(Outcome(mutant, "uncovered", 0.0))
        else:
            pending.append(mutant)
    print(
        f"{module}: {len(mutants)} mutants, {len(pending)} to run "
        f"(tests take {baseline:.1f} s; timeout {timeout:.0f} s)",
        flush=True,
    )
    free = list(copies)
    done = 0

    def work(mutant: Mutant) -> Outcome:
        copy = free.pop()
        try:
            return _run_mutant(copy, mutant, tests, timeout)
        finally:
            free.append(copy)

    with ThreadPoolExecutor(max_workers=len(copies)) as pool:
        for outcome in pool.map(work, pending):
            outcomes.append(outcome)
            done += 1
            if done % 20 == 0:
                print(f"  {done}/{len(pending)}", flush=True)
    outcomes.sort(key=lambda o: (o.mutant.line, o.mutant.ident))
    return outcomes


def _score(outcomes: list[Outcome]) -> tuple[int, int, float]:
    counted = [o for o in outcomes if o.status != "equivalent"]
    killed = sum(o.status in ("killed", "timeout") for o in counted)
    return len(counted), killed, (100.0 * killed / len(counted)) if counted else 100.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="repo-relative paths (default: every target)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel mutants (at most 2)")
    parser.add_argument("--floor", type=float, default=90.0, help="minimum score per module")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    targets = _load_toml(HERE / "targets.toml")
    table = targets.get("modules", {})
    assert isinstance(table, dict)
    raw_equivalents = _load_toml(HERE / "equivalents.toml").get("equivalent", {})
    assert isinstance(raw_equivalents, dict)
    equivalents = {str(k): str(v) for k, v in raw_equivalents.items()}
    modules = args.modules or list(table)
    for module in modules:
        if module not in table:
            print(f"{module}: not in tests/mutation/targets.toml [modules]", file=sys.stderr)
            return 2
        if not (REPO / module).is_file():
            print(f"{module}: no such file", file=sys.stderr)
            return 2
    jobs = min(max(args.jobs, 1), 2)
    results: dict[str, list[Outcome]] = {}
    with tempfile.TemporaryDirectory(prefix="qh-mutate-") as root:
        copies = [_make_copy(Path(root), f"w{n}") for n in range(jobs)]
        for module in modules:
            results[module] = _mutate_module(module, list(table[module]), equivalents, copies)
            counted, killed, score = _score(results[module])
            print(f"{module}: {killed} of {counted} killed ({score:.0f}%)", flush=True)
    failed = False
    print("\n| module | mutants | killed | survived | equivalent | score |")
    print("|---|---|---|---|---|---|")
    for module, outcomes in results.items():
        counted, killed, score = _score(outcomes)
        equivalent = sum(o.status == "equivalent" for o in outcomes)
        failed |= score < args.floor
        mark = "" if score >= args.floor else " BELOW FLOOR"
        print(
            f"| {module} | {counted + equivalent} | {killed} | {counted - killed} | {equivalent} | {score:.0f}%{mark} |"
        )
    for outcomes in results.values():
        for outcome in outcomes:
            if outcome.status in ("survived", "uncovered"):
                why = " (no test reaches this line)" if outcome.status == "uncovered" else ""
                print(
                    f"\nSURVIVED {outcome.mutant.ident} line {outcome.mutant.line}: {outcome.mutant.kind}{why}"
                )
                print(outcome.mutant.diff.rstrip())
    if args.json:
        payload = {
            module: [
                {
                    "id": o.mutant.ident,
                    "line": o.mutant.line,
                    "status": o.status,
                    "diff": o.mutant.diff,
                }
                for o in outcomes
            ]
            for module, outcomes in results.items()
        }
        args.json.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    stale = set(equivalents) - {o.mutant.ident for rs in results.values() for o in rs}
    stale = {s for s in stale if s.split(":")[0] in results}
    for ident in sorted(stale):
        print(f"note: equivalents.toml lists {ident}, which no longer exists; remove it")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
