"""Reports: JUnit XML, JSON, Markdown, HTML; each names versions, sha256, seed and counts."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from support.paths import EXAMPLES

import contracts
from connector.activation import Activation, load_activation
from connector.certify import CHECK_NAMES, certify
from connector.certify.reports import (
    html_report,
    json_report,
    junit_xml,
    markdown_report,
    write_report,
)
from connector.errors import UsageError


@pytest.fixture(scope="module")
def partner_result() -> object:
    return certify(
        load_activation(EXAMPLES / "partner-activation.toml"), examples=60, seed=21, delivery=False
    )


def test_junit_has_a_testcase_per_check_and_failures_with_evidence(partner_result: object) -> None:
    """Parsed with xml.etree: one testcase per check, <failure> naming the field."""
    root = ET.fromstring(junit_xml(partner_result))  # type: ignore[arg-type]  # noqa: S314 - our own report
    suite = root.find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == [n for n in CHECK_NAMES if not n.startswith("delivery.")]
    failure = cases["workflow.required-fields"].find("failure")
    assert failure is not None
    assert "order_id" in (failure.text or "")
    assert "$.order.id" in (failure.text or "")
    assert suite.get("failures") == "1"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["seed"] == "21"
    assert props["contract.qualtrics-event"] == contracts.version("qualtrics-event")
    assert props["activation sha256"]
    assert len(props["activation sha256"] or "") == 64


def test_json_report_keys(partner_result: object) -> None:
    """verdict, checks (name -> status, evidence), seed, examples, sha256, contracts, version."""
    report = json.loads(json.dumps(json_report(partner_result), default=repr))  # type: ignore[arg-type]
    assert report["verdict"] == "failed"
    assert report["checks"]["workflow.required-fields"]["status"] == "failed"
    assert "order_id" in report["checks"]["workflow.required-fields"]["evidence"]
    assert report["checks"]["property.no-crash"]["status"] == "passed"
    assert report["seed"] == 21
    assert report["examples"] == 60
    assert len(report["activation_sha256"]) == 64
    assert report["contracts"] == {n: contracts.version(n) for n in contracts.CONTRACT_NAMES}
    assert report["tool_version"]


def test_markdown_names_the_field_and_the_facts(partner_result: object) -> None:
    text = markdown_report(partner_result)  # type: ignore[arg-type]
    assert "order_id" in text
    assert "$.order.id" in text
    assert "no mapping feeds it" in text
    assert f"qualtrics-event {contracts.version('qualtrics-event')}" in text
    assert "seed" in text
    assert "FAIL" in text


def test_html_is_escaped_and_self_contained(bundled: Activation) -> None:
    """An activation name with markup is shown, not executed; no external resources."""
    destination = replace(bundled.destination, name="<script>alert(1)</script>")
    result = certify(replace(bundled, destination=destination), examples=20, seed=1, delivery=False)
    page = html_report(result)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "http://" not in page.replace("http://json-schema", "")
    assert "src=" not in page


def test_write_report_by_kind(tmp_path: Path, partner_result: object) -> None:
    for name, kind in (
        ("r.md", "markdown"),
        ("r.html", "html"),
        ("r.json", "json"),
        ("r.xml", "junit"),
    ):
        write_report(partner_result, tmp_path / name, kind)  # type: ignore[arg-type]
        assert (tmp_path / name).stat().st_size > 200
    with pytest.raises(UsageError):
        write_report(partner_result, tmp_path / "missing" / "r.md", "markdown")  # type: ignore[arg-type]
