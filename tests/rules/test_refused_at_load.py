"""What the mock would refuse is refused when the activation or the scenario loads.

Before, a 201-character workflow field name loaded and stopped ``certify`` mid-run ("the mock
... answered 400"), and a scenario with ``delay_ms = 70000`` loaded and crashed ``certify-sender``
inside the mock. Both are now one line naming the file and the key, exit 2, before anything runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.activations import DOCUMENTED_IDENTITIES, activation_toml
from support.cli import qharness_text
from support.mock import base_config

from contracts import facts
from mock_qualtrics import create_app


def _with_field(tmp_path: Path, name: str, jsonpath: str = "$.identityMap.Email[0].id") -> Path:
    path = tmp_path / "activation.toml"
    field = f'\n[[workflow.fields]]\nname = "{name}"\njsonpath = "{jsonpath}"\n'
    path.write_text(activation_toml(DOCUMENTED_IDENTITIES, field), encoding="utf-8")
    return path


def _one_line_usage_error(code: int, out: str, err: str, *needles: str) -> None:
    assert code == 2, err
    assert out == "", out
    assert len(err.strip().splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err


def test_a_field_name_the_mock_refuses_stops_certify_before_it_runs(tmp_path: Path) -> None:
    """201 characters: exit 2, one line naming the file and ``workflow.fields[0].name``."""
    too_long = "f" * (facts.LIMITS.field_name_chars + 1)
    path = _with_field(tmp_path, too_long)
    code, out, err = qharness_text("certify", str(path), "--examples", "5")
    _one_line_usage_error(code, out, err, str(path), "workflow.fields[0].name", "200")


@pytest.mark.parametrize(
    ("name", "jsonpath", "key"),
    [
        (" ", "$.a", "workflow.fields[0].name"),
        ("email", "identityMap.Email[0].id", "workflow.fields[0].jsonpath"),
        ("email", "$." + "a" * 200, "workflow.fields[0].jsonpath"),
    ],
)
def test_other_fields_the_mock_refuses_are_refused_at_load(
    tmp_path: Path, name: str, jsonpath: str, key: str
) -> None:
    path = _with_field(tmp_path, name, jsonpath)
    code, out, err = qharness_text("render", str(path), "-")
    _one_line_usage_error(code, out, err, str(path), key)


def test_the_longest_name_the_mock_takes_loads_and_the_mock_takes_it(tmp_path: Path) -> None:
    """200 characters: the activation loads, and the mock saves a workflow with that field."""
    longest = "f" * facts.LIMITS.field_name_chars
    code, _, err = qharness_text("render", str(_with_field(tmp_path, longest)), "-")
    assert code == 0, err
    client = create_app(base_config()).test_client()
    body = {"name": "w", "owner": "u", "fields": [{"name": longest, "jsonpath": "$.a"}]}
    assert client.post("/__admin/workflows", json=body).status_code == 201
    body["fields"] = [{"name": longest + "f", "jsonpath": "$.a"}]
    assert client.post("/__admin/workflows", json=body).status_code == 400


def test_the_mock_refuses_a_jsonpath_the_activation_refuses() -> None:
    """Both halves read one shape: ``jsonpath`` must start with ``$`` in the mock too."""
    client = create_app(base_config()).test_client()
    body = {"name": "w", "owner": "u", "fields": [{"name": "a", "jsonpath": "a.b"}]}
    answer = client.post("/__admin/workflows", json=body)
    assert answer.status_code == 400
    assert answer.get_json()["meta"]["error"]["errorMessage"].startswith("fields[0].jsonpath:")


@pytest.mark.parametrize(
    ("fault", "key"),
    [
        ("status = 503\ndelay_ms = 70000", "faults[0].delay_ms"),
        ("status = 429\nretry_after = 90000", "faults[0].retry_after"),
        ("status = 99", "faults[0].status"),
        ("delay_ms = 0", "faults[0]"),
    ],
)
def test_a_fault_the_mock_refuses_stops_certify_sender_before_it_runs(
    tmp_path: Path, fault: str, key: str
) -> None:
    """``delay_ms = 70000``: exit 2, one line naming the scenario file and the key; the sender
    (here ``false``, which would fail) never starts."""
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(f"[[faults]]\nat = [0.1, 0.2]\n{fault}\n", encoding="utf-8")
    code, out, err = qharness_text("certify-sender", "--scenario", str(scenario), "--", "false")
    _one_line_usage_error(code, out, err, str(scenario), key)
