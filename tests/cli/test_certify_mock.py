"""``certify --mock``: checks before the property stage, and a tidy mock afterwards."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from connector.cli import main
from connector.plugin import MockQualtrics
from mock_qualtrics.server import LiveMock

ADMIN_TOKEN = "admin-token-0123456789abcdef"


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_a_dead_mock_is_found_before_any_work(capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 2 in one line, before the property stage prints anything."""
    url = _closed_port_url()
    assert main(["certify", "--mock", url, "--examples", "5"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: --mock {url}: cannot reach the mock")
    assert captured.err.rstrip().endswith("nothing was run")
    assert "PASS" not in captured.out


@pytest.mark.parametrize("flag", ["--junit", "--report", "--json"])
def test_an_unwritable_report_path_is_found_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    """A report path in a missing directory: exit 2 naming the flag, nothing run."""
    path = tmp_path / "missing" / ("r.md" if flag == "--report" else "r.out")
    assert main(["certify", flag, str(path), "--examples", "5"]) == 2
    captured = capsys.readouterr()
    assert f"error: {flag} {str(path)!r}: its directory" in captured.err
    assert "does not exist; nothing was run" in captured.err
    assert captured.out == ""


def test_the_admin_token_error_names_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mock with an admin token and none given: the message names the variable to set."""
    monkeypatch.delenv("QHARNESS_MOCK_ADMIN_TOKEN", raising=False)
    with LiveMock({"ADMIN_TOKEN": ADMIN_TOKEN}) as live:
        assert main(["certify", "--mock", live.url, "--examples", "5"]) == 2
    err = capsys.readouterr().err
    assert "$QHARNESS_MOCK_ADMIN_TOKEN is not set: export QHARNESS_MOCK_ADMIN_TOKEN" in err
    assert ADMIN_TOKEN not in err


def _certify_names(mock: MockQualtrics) -> list[str]:
    return [w["name"] for w in mock.workflows() if w["name"].startswith("certify ")]


def test_certify_deletes_what_it_created_unless_keep(
    mock_qualtrics: MockQualtrics, capsys: pytest.CaptureFixture[str]
) -> None:
    """After a run the user's mock holds only its own workflows; --keep leaves ours."""
    mock_qualtrics.add_user("me@example.com", "my-token")
    mine = mock_qualtrics.create_workflow("certify my own", owner="me@example.com")
    args = ["certify", "--mock", mock_qualtrics.url, "--examples", "5", "--seed", "3"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "deleted the 3 workflows certification created" in out
    assert out.splitlines()[-1].startswith("certification passed")
    assert _certify_names(mock_qualtrics) == [mine["name"]]
    assert main([*args, "--keep"]) == 0
    assert len(_certify_names(mock_qualtrics)) == 4
