"""Quiet passing runs: the audit's one-line verdict, informational benchmarks, no coverage noise."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _audit(tmp_path: Path, report: dict[str, object]) -> subprocess.CompletedProcess[str]:
    requirements = tmp_path / "req.txt"
    requirements.write_text("click==8.1.7\nhttpx==0.27.0\n", encoding="utf-8")
    findings = tmp_path / "pip-audit.json"
    findings.write_text(json.dumps(report), encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            str(REPO / ".ci" / "audit_latest.py"),
            str(requirements),
            "--pip-audit-json",
            str(findings),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_clean_audit_is_one_line(tmp_path: Path) -> None:
    """Every pin audited by pip-audit, none vulnerable: exactly one line, exit 0."""
    clean = {
        "dependencies": [
            {"name": "click", "version": "8.1.7", "vulns": []},
            {"name": "httpx", "version": "0.27.0", "vulns": []},
        ]
    }
    done = _audit(tmp_path, clean)
    assert done.returncode == 0
    assert done.stdout.splitlines() == [
        "audit: 2 of 2 runtime dependencies audited (2 by pip-audit, 0 against PyPI's "
        "latest-release list); 0 vulnerable, 0 not audited"
    ]


def test_a_vulnerability_is_one_line_and_fails(tmp_path: Path) -> None:
    """One line per problem, then the summary; exit 1."""
    vulnerable = {
        "dependencies": [
            {"name": "click", "version": "8.1.7", "vulns": []},
            {
                "name": "httpx",
                "version": "0.27.0",
                "vulns": [{"id": "PYSEC-0000-1", "fix_versions": ["0.28.0"]}],
            },
        ]
    }
    done = _audit(tmp_path, vulnerable)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == "httpx 0.27.0: VULNERABLE PYSEC-0000-1 (fixed in 0.28.0)"
    assert lines[1].startswith("audit: 2 of 2 runtime dependencies audited")
    assert len(lines) == 2


def test_bench_says_its_figures_are_informational() -> None:
    """`nox -s bench` never fails on a figure and says so."""
    noxfile = (REPO / "noxfile.py").read_text(encoding="utf-8")
    assert "benchmark figures are informational" in noxfile
    assert "BELOW TARGET" not in (REPO / "benchmarks" / "send_throughput.py").read_text()


def test_cli_subprocesses_do_not_warn_about_unimported_packages() -> None:
    """A subprocess that imports only connector/ is no coverage gap: the warning is off."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "module-not-imported" in config["tool"]["coverage"]["run"]["disable_warnings"]
