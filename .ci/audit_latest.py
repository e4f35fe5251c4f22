"""Second opinion for pip-audit where PyPI's per-version JSON is not served.

pip-audit asks ``/pypi/<name>/<version>/json`` for each pin. Where that answers 404 (a mirror
that serves only project pages), pip-audit can only say "could not be audited". The project page
``/pypi/<name>/json`` still lists the known vulnerabilities of the latest release, so for every
pin that *is* the latest release this script checks that list, and fails on any live entry.

    python .ci/audit_latest.py requirements.txt
"""

from __future__ import annotations

import json
import sys
import urllib.request


def main(path: str) -> int:
    with open(path, encoding="utf-8") as handle:
        pins = [line.strip().split("==") for line in handle if "==" in line]
    audited, vulnerable, unaudited = 0, [], []
    for name, version in pins:
        url = f"https://pypi.org/pypi/{name}/json"
        try:
            with urllib.request.urlopen(url, timeout=20) as response:
                project = json.load(response)
        except OSError as exc:
            unaudited.append(f"{name} ({exc})")
            continue
        if project["info"]["version"] != version:
            unaudited.append(f"{name} {version} (latest is {project['info']['version']})")
            continue
        audited += 1
        for vuln in project.get("vulnerabilities", []):
            if not vuln.get("withdrawn"):
                vulnerable.append(
                    f"{name} {version}: {vuln.get('id')} (fixed in {', '.join(vuln.get('fixed_in') or []) or '?'})"
                )
    print(
        f"audited {audited} of {len(pins)} runtime dependencies against PyPI's vulnerability list"
    )
    for line in unaudited:
        print(f"  not audited: {line}")
    for line in vulnerable:
        print(f"  VULNERABLE: {line}")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
