"""``send`` against the real mock: a summary that adds up, dead letters, ``qharness outbox``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from support.destination import TOKEN, workflow_with_activation
from support.profiles import jsonl, profile

from connector.cli import main
from connector.plugin import MockQualtrics


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN)


def _send(activation: Path, data: Path, state: Path, report: Path, *extra: str) -> int:
    args = ["send", str(activation), str(data), "--allow-http-loopback", "--rate", "0"]
    return main([*args, "--state", str(state), "--report-json", str(report), *extra])


def _adds_up(report: dict[str, Any]) -> None:
    lines = report["lines"]
    fates = (
        lines["delivered"]
        + lines["pending"]
        + lines["dead_lettered"]
        + lines["already_delivered"]
        + lines["already_dead_lettered"]
        + lines["input_errors"]
        + lines["no_change"]
        + sum(report["excluded"].values())
        + report["failed"].get("contract-violation", 0)
    )
    assert fates == report["profiles_received"], report


def test_a_resumed_run_adds_up(
    mock_qualtrics: MockQualtrics, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three events left pending by a first run are the only ones delivered by the second, and
    both summaries add up: received = delivered + already delivered + excluded + ..."""
    _, activation = workflow_with_activation(mock_qualtrics, tmp_path)
    data = jsonl(
        tmp_path / "p.jsonl",
        [profile(f"u{i}@example.com") for i in range(10)]
        + [profile("a" * 64), profile("e@example.com", status="existing"), b"[1, 2]\n"],
    )
    state, report = tmp_path / "state", tmp_path / "r.json"
    mock_qualtrics.inject_fault(status=503, count=3)
    assert _send(activation, data, state, report, "--max-retry-time", "0") == 1
    first = orjson.loads(report.read_bytes())
    assert first["lines"]["pending"] == 3
    assert first["lines"]["delivered"] == 7
    assert first["last_error"] == "http 503 Service Unavailable"
    _adds_up(first)
    capsys.readouterr()
    assert _send(activation, data, state, report, "--accept-input-errors") == 0
    second = orjson.loads(report.read_bytes())
    _adds_up(second)
    assert second["lines"]["delivered"] == 3
    assert second["lines"]["already_delivered"] == 7
    out = capsys.readouterr().out
    assert (
        "send: 13 received = 3 delivered + 7 already delivered + 1 excluded + 1 input error "
        "+ 1 no change" in out
    )


def test_dead_letters_fail_every_run_until_retried(
    mock_qualtrics: MockQualtrics, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A dead letter fails this run and the next (no 'success'), `outbox dead` lists it, and
    `outbox retry` sends it on the next run."""
    flow, activation = workflow_with_activation(mock_qualtrics, tmp_path)
    data = jsonl(tmp_path / "p.jsonl", [profile(f"u{i}@example.com") for i in range(5)])
    state, report = tmp_path / "state", tmp_path / "r.json"
    mock_qualtrics.inject_fault(status=400, count=2)
    assert _send(activation, data, state, report) == 1
    capsys.readouterr()
    assert _send(activation, data, state, report) == 1
    err = capsys.readouterr().err
    assert "alert: success" not in err
    assert "2 dead letters wait in the outbox" in err
    assert f"qharness outbox --state {state} dead" in err
    named = [line for line in err.splitlines() if line.startswith("  dead letter ")]
    assert len(named) == 2
    assert all(": http 400 Bad Request" in line for line in named)
    _adds_up(orjson.loads(report.read_bytes()))

    assert main(["outbox", "--state", str(state), "status"]) == 0
    status = capsys.readouterr().out
    assert "0 pending, 3 delivered, 2 dead" in status
    assert "2 x http 400 Bad Request" in status
    assert main(["outbox", "--state", str(state), "dead"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 2
    assert all("  400  " in line and "http 400 Bad Request" in line for line in listed)

    assert main(["outbox", "--state", str(state), "retry", "--reason", "500"]) == 0
    assert "0 dead letters moved" in capsys.readouterr().out
    assert main(["outbox", "--state", str(state), "retry", "--reason", "http 400"]) == 0
    assert "2 dead letters moved back to pending" in capsys.readouterr().out
    assert _send(activation, data, state, report) == 0
    again = orjson.loads(report.read_bytes())
    assert again["lines"]["delivered"] == 2
    assert again["lines"]["already_delivered"] == 3
    assert len(mock_qualtrics.runs(flow["id"], wait_for=5, timeout=10)) == 5


def test_purge_asks_or_takes_yes(
    mock_qualtrics: MockQualtrics, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a terminal, purge refuses (exit 2) unless --yes; then the outbox is clean."""
    _, activation = workflow_with_activation(mock_qualtrics, tmp_path)
    data = jsonl(tmp_path / "p.jsonl", [profile(f"u{i}@example.com") for i in range(3)])
    state, report = tmp_path / "state", tmp_path / "r.json"
    mock_qualtrics.inject_fault(status=422, count=1)
    assert _send(activation, data, state, report) == 1
    capsys.readouterr()
    assert main(["outbox", "--state", str(state), "purge"]) == 2
    assert "confirm with --yes" in capsys.readouterr().err
    assert main(["outbox", "--state", str(state), "purge", "--yes"]) == 0
    assert "1 dead letter dropped" in capsys.readouterr().out
    assert main(["outbox", "--state", str(state), "status"]) == 0
    assert "0 pending, 2 delivered, 0 dead" in capsys.readouterr().out


def test_outbox_on_a_missing_state_dir_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One line naming the directory, exit 2."""
    assert main(["outbox", "--state", str(tmp_path / "nope"), "status"]) == 2
    assert "no such state directory" in capsys.readouterr().err
