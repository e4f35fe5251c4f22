"""Reports of a certification: JUnit XML (CI), Markdown or HTML (to hand over), JSON (machines).

Each names the contract versions, the activation's sha256, the seed, the example counts and the
tool version, and lists every check with its verdict and evidence.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET  # we only write XML, never parse it  # nosec B405
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from .. import exactjson
from ..errors import UsageError
from .runner import Certification

__all__ = [
    "html_report",
    "json_report",
    "junit_xml",
    "markdown_report",
    "report_kind",
    "write_report",
]


def _facts(c: Certification) -> list[tuple[str, str]]:
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(c.counts.items())) or "none"
    return [
        ("verdict", c.verdict),
        ("activation", c.activation.source),
        ("activation sha256", c.activation.sha256),
        ("destination", c.activation.destination.name),
        ("seed", str(c.seed)),
        ("examples", str(c.examples)),
        ("example counts", counts),
        ("contracts", ", ".join(f"{name} {version}" for name, version in c.contracts.items())),
        ("tool version", f"qualtrics-harness {c.tool_version}"),
        ("mock", c.mock),
        ("replay", c.replay()),
        ("duration", f"{c.duration:.1f} s"),
        *c.extra_facts(),
    ]


def json_report(c: Certification) -> dict[str, Any]:
    """The JSON report: ``verdict``, ``checks`` (name -> status and evidence), ``seed``, ..."""
    return {
        "verdict": c.verdict,
        "summary": c.summary,
        "checks": {
            check.name: {
                "status": check.status,
                "passed": check.passed,
                "evidence": check.evidence,
                "details": check.details,
                "duration_s": round(check.duration, 4),
                **({"data": check.data} if check.data else {}),
            }
            for check in c.checks
        },
        "seed": c.seed,
        "examples": c.examples,
        "example_counts": dict(sorted(c.counts.items())),
        "activation": c.activation.source,
        "activation_sha256": c.activation.sha256,
        "destination": c.activation.destination.name,
        "contracts": dict(c.contracts),
        "tool_version": c.tool_version,
        "mock": c.mock,
        "replay": c.replay(),
        "duration_s": round(c.duration, 3),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **c.extra_json(),
    }


def junit_xml(c: Certification) -> bytes:
    """One ``<testsuite>``, a ``<testcase>`` per check, ``<failure>`` carrying the evidence."""
    failures = sum(not check.passed for check in c.checks)
    suites = ET.Element(
        "testsuites", name=f"qharness {c.COMMAND}", tests=str(len(c.checks)), failures=str(failures)
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"qharness {c.COMMAND}",
        tests=str(len(c.checks)),
        failures=str(failures),
        errors="0",
        skipped="0",
        time=f"{c.duration:.3f}",
        timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    properties = ET.SubElement(suite, "properties")
    for key, value in _facts(c):
        ET.SubElement(properties, "property", name=key, value=value)
    for name, version in c.contracts.items():
        ET.SubElement(properties, "property", name=f"contract.{name}", value=version)
    for check in c.checks:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{c.COMMAND}.{check.name.split('.')[0]}",
            name=check.name,
            time=f"{check.duration:.3f}",
        )
        if check.passed:
            ET.SubElement(case, "system-out").text = check.evidence
        else:
            failure = ET.SubElement(case, "failure", message=check.evidence[:500], type=check.name)
            failure.text = check.full_evidence()
    if c.sections():
        text = "\n\n".join(f"{title}\n{body}" for title, body in c.sections())
        ET.SubElement(suite, "system-out").text = text
    ET.indent(suites)
    data: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def markdown_report(c: Certification) -> str:
    lines = [
        f"# {c.title()} {_md(c.activation.destination.name)}: {c.verdict.upper()}",
        "",
        c.summary,
        "",
    ]
    lines += ["| | |", "|---|---|"]
    lines += [f"| {key} | {_md(value)} |" for key, value in _facts(c)]
    lines += ["", "## Checks", "", "| check | verdict | evidence |", "|---|---|---|"]
    lines += [
        f"| `{ch.name}` | {'PASS' if ch.passed else '**FAIL**'} | {_md(ch.evidence)} |"
        for ch in c.checks
    ]
    failed = [ch for ch in c.checks if not ch.passed]
    for title, text in c.sections():
        lines += ["", f"## {title}", "", "```", text.replace("```", "'''"), "```"]
    if failed:
        lines += ["", "## Failures"]
        for check in failed:
            lines += [
                "",
                f"### `{check.name}`",
                "",
                "```",
                check.full_evidence().replace("```", "'''"),
                "```",
            ]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;"
    "color:#222}table{border-collapse:collapse;width:100%;margin:1rem 0}"
    "td,th{border:1px solid #ccc;padding:.3rem .5rem;"
    "text-align:left;vertical-align:top}th{background:#f4f4f4}.pass{color:#1a7f37;font-weight:bold}"
    ".fail{color:#cf222e;font-weight:bold}pre{background:#f6f8fa;padding:.8rem;overflow:auto;white-space:pre-wrap}"
    "code{font-family:ui-monospace,monospace}"
)


def html_report(c: Certification) -> str:
    """A self-contained page (inline style, no script, no external resource); everything escaped."""
    e = html.escape
    verdict_class = "pass" if c.passed else "fail"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(c.title())} {e(c.activation.destination.name)}: {e(c.verdict)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f'<h1>{e(c.title())} {e(c.activation.destination.name)}: <span class="{verdict_class}">'
        f"{e(c.verdict.upper())}</span></h1>",
        f"<p>{e(c.summary)}</p>",
        "<table>",
        *(f"<tr><th>{e(key)}</th><td>{e(value)}</td></tr>" for key, value in _facts(c)),
        "</table>",
        "<h2>Checks</h2>",
        "<table><tr><th>check</th><th>verdict</th><th>evidence</th></tr>",
    ]
    for check in c.checks:
        cls = "pass" if check.passed else "fail"
        parts.append(
            f"<tr><td><code>{e(check.name)}</code></td>"
            f'<td class="{cls}">{"PASS" if check.passed else "FAIL"}'
            f"</td><td>{e(check.evidence)}</td></tr>"
        )
    parts.append("</table>")
    for title, text in c.sections():
        parts.append(f"<h2>{e(title)}</h2><pre>{e(text)}</pre>")
    failed = [ch for ch in c.checks if not ch.passed]
    if failed:
        parts.append("<h2>Failures</h2>")
        for check in failed:
            parts.append(
                f"<h3><code>{e(check.name)}</code></h3><pre>{e(check.full_evidence())}</pre>"
            )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def report_kind(path: Path) -> str:
    """``markdown`` or ``html`` from ``--report``'s suffix; anything else is a usage error."""
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        return "html"
    if suffix in (".md", ".markdown"):
        return "markdown"
    raise UsageError(f"--report {str(path)!r}: the file name must end in .md or .html")


def _json_default(value: Any) -> Any:
    """Exact numbers as their JSON text (a shrunk profile may hold one); anything else its repr."""
    try:
        return exactjson.fragment(value)
    except TypeError:
        return repr(value)


def write_report(c: Certification, path: Path, kind: str) -> None:
    """Write a ``junit``, ``json``, ``markdown`` or ``html`` report to ``path``."""
    if kind == "junit":
        data = junit_xml(c)
    elif kind == "json":
        options = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
        data = orjson.dumps(json_report(c), option=options, default=_json_default) + b"\n"
    elif kind == "html":
        data = html_report(c).encode()
    else:
        data = markdown_report(c).encode()
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
