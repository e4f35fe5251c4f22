"""``send``'s input errors and its words for an unreachable destination, through the CLI."""

from __future__ import annotations

import socket
from pathlib import Path

import orjson
import pytest
from support.activations import activation_with_url
from support.destination import TOKEN, workflow_with_activation
from support.profiles import jsonl, profile

from connector.cli import main
from connector.plugin import MockQualtrics


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN)


def _send(activation: Path, data: Path, tmp_path: Path, *extra: str) -> int:
    return main(
        [
            "send",
            str(activation),
            str(data),
            "--allow-http-loopback",
            "--state",
            str(tmp_path / "state"),
            "--report-json",
            str(tmp_path / "r.json"),
            *extra,
        ]
    )


def test_a_csv_is_not_json_lines(
    mock_qualtrics: MockQualtrics, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No line is a JSON object: each line is named, then one clear error, exit 2."""
    _, activation = workflow_with_activation(mock_qualtrics, tmp_path)
    data = tmp_path / "export.csv"
    data.write_text("email,first_name\nana@example.com,Ana\n", encoding="utf-8")
    assert _send(activation, data, tmp_path) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[1].startswith("line 1: invalid-profile: $: not JSON")
    assert err[2].startswith("line 2: invalid-profile: $: not JSON")
    assert err[-1].startswith(f"error: {data}: not JSON Lines (one JSON object per line)")
    assert "alert: success" not in "\n".join(err)


def test_a_pretty_printed_array_is_not_json_lines(
    mock_qualtrics: MockQualtrics, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A JSON array over several lines: exit 2 as well, not '4 excluded' and exit 0."""
    _, activation = workflow_with_activation(mock_qualtrics, tmp_path)
    data = tmp_path / "profiles.json"
    data.write_bytes(orjson.dumps([profile("a@example.com")], option=orjson.OPT_INDENT_2))
    assert _send(activation, data, tmp_path) == 2
    assert "not JSON Lines" in capsys.readouterr().err


def test_input_errors_fail_the_run_unless_accepted(
    mock_qualtrics: MockQualtrics, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Good lines are delivered; each bad one has its stderr line; exit 1, or 0 with the flag;
    the report counts input errors apart from exclusions."""
    _, activation = workflow_with_activation(mock_qualtrics, tmp_path)
    data = jsonl(
        tmp_path / "p.jsonl",
        [profile("a@example.com"), b"not json\n", b'"a string"\n', profile("b@example.com")],
    )
    assert _send(activation, data, tmp_path) == 1
    captured = capsys.readouterr()
    assert "line 2: invalid-profile: $: not JSON" in captured.err
    assert "line 3: invalid-profile: $: expected a JSON object, got str" in captured.err
    assert "pass --accept-input-errors" in captured.err
    assert "4 received = 2 delivered + 2 input errors" in captured.out
    report = orjson.loads((tmp_path / "r.json").read_bytes())
    assert report["input_errors"] == 2
    assert report["excluded"] == {}
    assert _send(activation, data, tmp_path, "--accept-input-errors") == 0


def test_an_unreachable_destination_is_named_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Connection refused is said on stderr after the first attempts, and again in the summary
    and the report, not only as 'retry-time-exceeded'."""
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/inbound-event/v1/events/json/triggers?urlTokenId=x-secret-x"
    activation = activation_with_url(tmp_path, url)
    data = jsonl(tmp_path / "p.jsonl", [profile("a@example.com")])
    assert _send(activation, data, tmp_path, "--max-retry-time", "2") == 1
    captured = capsys.readouterr()
    assert (
        f"alert: unreachable: cannot reach http://127.0.0.1:{port}/inbound-event/v1/events/json/"
        "triggers?urlTokenId=***: connection refused; retrying" in captured.err
    )
    assert "last error: connection refused" in captured.out
    assert "x-secret-x" not in captured.out + captured.err
    report = orjson.loads((tmp_path / "r.json").read_bytes())
    assert report["last_error"] == "connection refused"
    assert report["lines"]["pending"] == 1
