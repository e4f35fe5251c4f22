"""``qharness certify`` and ``qharness contracts diff`` from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support.cli import QHARNESS, qharness_text
from support.paths import EXAMPLES

from connector.certify import CHECK_NAMES

VERDICT = "certification {}: {} passed, {} failed"


def test_bundled_example_passes(tmp_path: Path) -> None:
    """No argument: the bundled example, embedded mock, every check printed, verdict last."""
    code, out, err = qharness_text(
        "certify", "--examples", "40", "--seed", "5", "--json", str(tmp_path / "c.json")
    )
    lines = out.rstrip("\n").split("\n")
    assert code == 0, out + err
    assert lines[-1] == VERDICT.format("passed", len(CHECK_NAMES), 0)
    for name in CHECK_NAMES:
        assert any(line.startswith(f"PASS  {name} ") for line in lines), name
    assert "seed 5" in out
    assert "\x1b[" not in out
    report = json.loads((tmp_path / "c.json").read_text())
    assert report["verdict"] == "passed"
    assert report["seed"] == 5


@pytest.mark.parametrize("example", ["partner-certified.toml"])
def test_example_activations_pass(example: str) -> None:
    code, out, _ = qharness_text(
        "certify", str(EXAMPLES / example), "--examples", "40", "--seed", "3"
    )
    assert code == 0, out
    assert out.rstrip().endswith(VERDICT.format("passed", len(CHECK_NAMES), 0))


def test_partner_field_named_in_terminal_junit_and_report(tmp_path: Path) -> None:
    """The done-when: the unfed field is named in the terminal, the JUnit and the report."""
    junit, report = tmp_path / "junit.xml", tmp_path / "report.md"
    code, out, _ = qharness_text(
        "certify", str(EXAMPLES / "partner-activation.toml"), "--examples", "40", "--seed", "8",
        "--junit", str(junit), "--report", str(report),
    )  # fmt: skip
    assert code == 1
    assert "FAIL  workflow.required-fields" in out
    assert "'order_id' ($.order.id): no mapping feeds it" in out
    assert out.rstrip().split("\n")[-1].startswith("certification failed: ")
    cases = ET.parse(junit).iter("testcase")  # noqa: S314 - our own report
    case = next(c for c in cases if c.get("name") == "workflow.required-fields")
    failure = case.find("failure")
    assert failure is not None
    assert "order_id" in (failure.text or "")
    assert "order_id" in report.read_text()
    assert "$.order.id" in report.read_text()


def test_configuration_errors_exit_2_in_one_line(tmp_path: Path) -> None:
    """A missing file or a governance clash: exit 2, one line, no traceback."""
    code, _, err = qharness_text("certify", str(tmp_path / "nope.toml"))
    assert code == 2
    assert "cannot read" in err
    assert "Traceback" not in err
    clash = (
        (EXAMPLES / "partner-certified.toml")
        .read_text()
        .replace('labels = ["C4"]', 'labels = ["C2"]')
    )
    (tmp_path / "clash.toml").write_text(clash)
    code, _, err = qharness_text("certify", str(tmp_path / "clash.toml"))
    assert code == 2
    assert "governance" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = qharness_text("certify", "--report", str(tmp_path / "r.pdf"))
    assert code == 2
    assert ".md or .html" in err


def test_unreachable_mock_is_a_usage_error() -> None:
    code, _, err = qharness_text("certify", "--examples", "5", "--mock", "http://127.0.0.1:9")
    assert code == 2
    assert "cannot reach the mock" in err


def test_mock_with_an_admin_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """--mock URL of a mock that guards its admin API: the token comes from the environment."""
    from mock_qualtrics import LiveMock

    with LiveMock({"ADMIN_TOKEN": "admin-secret"}) as live:
        monkeypatch.delenv("QHARNESS_MOCK_ADMIN_TOKEN", raising=False)
        code, _, err = qharness_text("certify", "--examples", "5", "--mock", live.url)
        assert code == 2
        assert "admin token" in err
        monkeypatch.setenv("QHARNESS_MOCK_ADMIN_TOKEN", "admin-secret")
        code, out, _ = qharness_text("certify", "--examples", "5", "--mock", live.url)
        assert code == 0, out
        assert out.strip().splitlines()[-1] == "certification passed: 12 passed, 0 failed"


@pytest.mark.slow
def test_installed_command_end_to_end(tmp_path: Path) -> None:
    """The installed `qharness certify --examples 50 --json F --junit F`, run from another
    directory (the subprocess smoke test of certify)."""
    json_file, junit = tmp_path / "c.json", tmp_path / "c.xml"
    done = subprocess.run(
        [*QHARNESS, "certify", "--examples", "50", "--json", str(json_file), "--junit", str(junit)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().split("\n")[-1] == VERDICT.format("passed", len(CHECK_NAMES), 0)
    assert json.loads(json_file.read_text())["verdict"] == "passed"
    cases = list(ET.parse(junit).iter("testcase"))  # noqa: S314 - our own report
    assert len(cases) == len(CHECK_NAMES)
