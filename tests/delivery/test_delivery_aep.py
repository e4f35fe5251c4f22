"""``qharness send --retry-policy aep`` against the real mock: what AEP itself would lose.

Adobe's best effort retries 403, 408, 409, 429, 500, 502, 503 and 504 twice (after 15 s and 30 s)
and then drops the event; ``QHARNESS_AEP_RETRY_WAITS`` shrinks the waits so no test sleeps 45 s.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
from support.cli import qharness
from support.destination import TOKEN, workflow_with_activation
from support.profiles import jsonl, profiles

from connector.plugin import MockQualtrics

WAITS = "0.05,0.1"


def send(
    mock: MockQualtrics, tmp_path: Path, count: int, *extra: str, waits: str = WAITS
) -> tuple[subprocess.CompletedProcess[bytes], dict[str, Any], str]:
    """Run ``send`` for ``count`` profiles; the process, its JSON report, the workflow id."""
    flow, activation = workflow_with_activation(mock, tmp_path)
    data = jsonl(tmp_path / "profiles.jsonl", profiles(count))
    report = tmp_path / "report.json"
    done = qharness(
        "send",
        str(activation),
        str(data),
        "--state",
        str(tmp_path / "state"),
        "--allow-http-loopback",
        "--report-json",
        str(report),
        *extra,
        env={"QUALTRICS_API_TOKEN": TOKEN, "QHARNESS_AEP_RETRY_WAITS": waits},
    )
    answer = orjson.loads(report.read_bytes()) if report.exists() else {}
    return done, answer, str(flow["id"])


def fault_statuses(mock: MockQualtrics) -> list[int]:
    return sorted(e["status_code"] for e in mock.events() if e["outcome"] == "fault")


def test_three_503s_are_two_retries_then_a_drop(
    mock_qualtrics: MockQualtrics, tmp_path: Path
) -> None:
    """503 three times: retried twice, then dropped and counted by reason; exit 1."""
    mock_qualtrics.inject_fault(status=503, count=3)
    done, report, flow = send(mock_qualtrics, tmp_path, 1, "--retry-policy", "aep")
    assert done.returncode == 1, done.stderr.decode()
    assert report["dropped"] == {"http-503": 1}
    assert report["retries"] == 2
    assert report["identities_activated"] == 0
    assert fault_statuses(mock_qualtrics) == [503, 503, 503]
    assert mock_qualtrics.runs(flow) == []
    assert "dropped (aep policy): http-503 1" in done.stdout.decode()


def test_two_409s_are_survived_under_aep_but_dead_lettered_by_the_harness(
    mock_qualtrics: MockQualtrics, tmp_path: Path
) -> None:
    """409 is on Adobe's retry list (the harness calls it permanent): retried, then delivered."""
    mock_qualtrics.inject_fault(status=409, count=2)
    done, report, flow = send(mock_qualtrics, tmp_path, 1, "--retry-policy", "aep")
    assert done.returncode == 0, done.stderr.decode()
    assert report["dropped"] == {}
    assert report["retries"] == 2
    assert len(mock_qualtrics.runs(flow, wait_for=1, timeout=10)) == 1


def test_harness_policy_dead_letters_the_same_409(
    mock_qualtrics: MockQualtrics, tmp_path: Path
) -> None:
    """The same fault under the default policy: a dead letter, not a drop."""
    mock_qualtrics.inject_fault(status=409, count=2)
    done, report, _ = send(mock_qualtrics, tmp_path, 1)
    assert done.returncode == 1
    assert report["failed"] == {"http-409": 1}
    assert report["dropped"] == {}


@pytest.mark.parametrize("status", [400, 401])
def test_statuses_off_adobes_list_are_dropped_at_once(
    mock_qualtrics: MockQualtrics, tmp_path: Path, status: int
) -> None:
    """Adobe never retries a 400 (nor a 401): one attempt, dropped."""
    mock_qualtrics.inject_fault(status=status, count=1)
    done, report, _ = send(mock_qualtrics, tmp_path, 1, "--retry-policy", "aep")
    assert done.returncode == 1
    assert report["dropped"] == {f"http-{status}": 1}
    assert report["retries"] == 0


def test_bad_waits_are_a_usage_error(mock_qualtrics: MockQualtrics, tmp_path: Path) -> None:
    """A malformed QHARNESS_AEP_RETRY_WAITS is named, exit 2."""
    done, _, _ = send(mock_qualtrics, tmp_path, 1, "--retry-policy", "aep", waits="soon")
    assert done.returncode == 2
    assert "QHARNESS_AEP_RETRY_WAITS" in done.stderr.decode()
