"""A load that fails says every problem, and still writes the reports CI reads."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET  # nosec B405 - our own report
from pathlib import Path

import pytest

from tests.support.cli import qharness_text
from tests.support.paths import EXAMPLE


def _broken(tmp_path: Path) -> Path:
    """The bundled example with two typos: ``api_token_environment`` and ``user_name``."""
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("api_token_env =", "api_token_environment =")
    text = text.replace("username =", "user_name =")
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _junit_cases(path: Path) -> list[ET.Element]:
    return list(ET.parse(path).getroot().iter("testcase"))  # noqa: S314 - our own file


def test_two_typos_give_two_lines_each_with_its_did_you_mean(tmp_path: Path) -> None:
    """Every problem is said at once, unknown keys first, no "(and N more problems)" tail."""
    code, _, err = qharness_text("sample-profiles", str(_broken(tmp_path)))
    assert code == 2
    lines = err.splitlines()
    assert lines == [
        f"error: {tmp_path / 'broken.toml'}: destination.api_token_environment: unknown key; "
        "did you mean 'api_token_env'? ('api_token_env' is required and missing)",
        f"error: {tmp_path / 'broken.toml'}: destination.user_name: unknown key; "
        "did you mean 'username'? ('username' is required and missing)",
    ]
    assert "more problem" not in err


def test_certify_writes_junit_with_the_load_error_and_exits_2(tmp_path: Path) -> None:
    """``certify broken.toml --junit j.xml``: exit 2, j.xml holds one failing case, the error."""
    junit, report = tmp_path / "j.xml", tmp_path / "r.json"
    code, _, err = qharness_text(
        "certify", str(_broken(tmp_path)), "--junit", str(junit), "--json", str(report)
    )
    assert code == 2
    [case] = _junit_cases(junit)
    assert case.get("name") == "activation.load"
    failure = case.find("failure")
    assert failure is not None
    assert failure.text is not None
    assert "did you mean 'api_token_env'?" in failure.text
    assert "did you mean 'username'?" in failure.text
    checks = json.loads(report.read_text())["checks"]
    assert list(checks) == ["activation.load"]
    assert checks["activation.load"]["passed"] is False
    assert "did you mean 'username'?" in err


def test_certify_sender_writes_its_report_on_a_failed_load(tmp_path: Path) -> None:
    """The same for ``certify-sender``: the sender is never run, the report says why."""
    junit = tmp_path / "j.xml"
    code, _, _ = qharness_text(
        "certify-sender", "--activation", str(_broken(tmp_path)), "--junit", str(junit),
        "--", "python3", "-c", "raise SystemExit(0)",
    )  # fmt: skip
    assert code == 2
    [case] = _junit_cases(junit)
    assert case.get("name") == "activation.load"
    assert case.find("failure") is not None


def test_a_scenario_that_fails_to_load_still_writes_the_report(tmp_path: Path) -> None:
    """A ``--scenario`` the mock could not play (a delay past its range) is refused before the
    sender runs, and the report carries it as the failing ``sender.scenario`` case, exit 2."""
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(
        '[[faults]]\nname = "slow"\nat = [0.1, 0.2]\ndelay_ms = 70000\n', encoding="utf-8"
    )
    junit = tmp_path / "j.xml"
    code, _, err = qharness_text(
        "certify-sender", "--scenario", str(scenario), "--junit", str(junit),
        "--", "python3", "-c", "raise SystemExit(0)",
    )  # fmt: skip
    assert code == 2, err
    assert "faults[0].delay_ms" in err
    failing = [c for c in _junit_cases(junit) if c.find("failure") is not None]
    assert [c.get("name") for c in failing] == ["sender.scenario"]
    failure = failing[0].find("failure")
    assert failure is not None
    assert "delay_ms" in (failure.get("message", "") + (failure.text or ""))


def test_a_governance_clash_fails_activation_governance_in_the_report(tmp_path: Path) -> None:
    """A C2 label with ``exportToThirdParty``: the load passes its contract, governance fails."""
    text = EXAMPLE.read_text(encoding="utf-8").replace("labels = []", 'labels = ["C2"]', 1)
    path = tmp_path / "labelled.toml"
    path.write_text(text, encoding="utf-8")
    report = tmp_path / "r.json"
    code, _, err = qharness_text("certify", str(path), "--json", str(report))
    assert code == 2
    checks = json.loads(report.read_text())["checks"]
    assert checks["activation.load"]["passed"] is True
    assert checks["activation.governance"]["passed"] is False
    assert "C2" in checks["activation.governance"]["evidence"]
    assert "governance" in err


@pytest.mark.parametrize(
    ("old", "new", "wanted"),
    [
        ('id = "046456e3', 'id = "046456e3', ["appears twice"]),
        ('target = "person.name.firstName"', 'target = "identityMap.x"', ["is reserved"]),
    ],
)
def test_problems_after_the_contract_are_all_said_too(
    tmp_path: Path, old: str, new: str, wanted: list[str]
) -> None:
    """A reserved target and a duplicate identity in one file: two lines, not the first alone."""
    text = EXAMPLE.read_text(encoding="utf-8").replace(old, new)
    text = text.replace('source = "ECID"', 'source = "Email"')  # a duplicate namespace as well
    path = tmp_path / "a.toml"
    path.write_text(text, encoding="utf-8")
    code, _, err = qharness_text("sample-profiles", str(path))
    assert code == 2
    lines = err.splitlines()
    assert any("identityMap namespace 'Email' appears twice" in line for line in lines)
    for word in wanted:
        assert any(word in line for line in lines)
    assert all(line.startswith("error: ") for line in lines)
