"""The security session's audit verdict: one line per problem, then one summary line.

pip-audit asks ``/pypi/<name>/<version>/json`` for each pin. Where that answers 404 (a mirror
that serves only project pages), pip-audit can only skip the pin ("could not be audited"). The
project page ``/pypi/<name>/json`` still lists the known vulnerabilities of the latest release,
so for every skipped pin that *is* the latest release this script checks that list. It reads
pip-audit's JSON report (``--pip-audit-json``), so a passing run prints a single line.

    python .ci/audit_latest.py requirements.txt [--pip-audit-json pip-audit.json]

Exit 1 on any known vulnerability; a pin neither audit could check is a line of its own but,
as before, does not fail the session (a mirror may not serve every page).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from typing import Any


def _latest_vulns(name: str, version: str) -> tuple[list[str], str | None]:
    """Vulnerability lines for ``name==version`` from the project page, or why it was not audited."""
    try:
        with urllib.request.urlopen(f"https://pypi.org/pypi/{name}/json", timeout=20) as response:
            project = json.load(response)
    except OSError as exc:
        return [], f"{name} {version}: not audited ({exc})"
    latest = project["info"]["version"]
    if latest != version:
        return [], f"{name} {version}: not audited (not the latest release, {latest})"
    return [
        f"{name} {version}: VULNERABLE {vuln.get('id')} "
        f"(fixed in {', '.join(vuln.get('fixed_in') or []) or '?'})"
        for vuln in project.get("vulnerabilities", [])
        if not vuln.get("withdrawn")
    ], None


def audit(pins: list[tuple[str, str]], report: dict[str, Any] | None) -> tuple[list[str], str]:
    """(problem lines, summary line)."""
    by_name = {str(dep["name"]).lower(): dep for dep in (report or {}).get("dependencies", [])}
    problems: list[str] = []
    by_pip_audit = by_latest = 0
    for name, version in pins:
        found = by_name.get(name.lower())
        if found is not None and "skip_reason" not in found:
            by_pip_audit += 1
            problems += [
                f"{name} {version}: VULNERABLE {vuln.get('id')} "
                f"(fixed in {', '.join(vuln.get('fix_versions') or []) or '?'})"
                for vuln in found.get("vulns", [])
            ]
            continue
        vulns, unaudited = _latest_vulns(name, version)
        problems += vulns
        if unaudited is None:
            by_latest += 1
        else:
            problems.append(unaudited)
    vulnerable = sum("VULNERABLE" in line for line in problems)
    summary = (
        f"audit: {by_pip_audit + by_latest} of {len(pins)} runtime dependencies audited "
        f"({by_pip_audit} by pip-audit, {by_latest} against PyPI's latest-release list); "
        f"{vulnerable} vulnerable, {len(pins) - by_pip_audit - by_latest} not audited"
    )
    return problems, summary


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requirements")
    parser.add_argument("--pip-audit-json")
    args = parser.parse_args(argv)
    with open(args.requirements, encoding="utf-8") as handle:
        pins = [tuple(line.strip().split("==", 1)) for line in handle if "==" in line]
    report = None
    if args.pip_audit_json:
        with open(args.pip_audit_json, encoding="utf-8") as handle:
            report = json.load(handle)
    problems, summary = audit([(n, v) for n, v in pins], report)
    for line in problems:
        print(line)
    print(summary)
    return 1 if any("VULNERABLE" in line for line in problems) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
