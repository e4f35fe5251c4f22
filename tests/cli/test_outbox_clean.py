"""``qharness outbox``: destinations by name, purging stale pending or old delivered events.

Against the real mock over 127.0.0.1, with real outbox files; the CLI runs in-process.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from support.activations import activation_with_url
from support.cli import qharness
from support.destination import TOKEN, URL_TOKEN_ID, workflow_with_activation
from support.profiles import jsonl, profile

from connector.plugin import MockQualtrics

NAME = "Post-purchase CSAT"  # the bundled example's destination.name


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN)


def _send(activation: Path, data: Path, state: Path, *extra: str) -> int:
    args = ["send", str(activation), str(data), "--allow-http-loopback", "--rate", "0"]
    return qharness(*args, "--state", str(state), *extra).returncode


def _out(*args: str) -> tuple[int, str, str]:
    result = qharness(*args)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def _unreachable(directory: Path) -> Path:
    """The example aimed at a loopback port nobody listens on (a mistyped URL)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    directory.mkdir()
    url = f"http://127.0.0.1:{port}/inbound-event/v1/events/json/triggers?urlTokenId={URL_TOKEN_ID}"
    path = activation_with_url(directory, url)
    path.write_text(
        path.read_text(encoding="utf-8").replace(f'name = "{NAME}"', 'name = "Typo"', 1),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def two_destinations(mock_qualtrics: MockQualtrics, tmp_path: Path) -> tuple[Path, Path]:
    """A state dir with 3 delivered events for NAME and 2 pending ones for "Typo"."""
    _, activation = workflow_with_activation(mock_qualtrics, tmp_path)
    state = tmp_path / "state"
    data = jsonl(tmp_path / "p.jsonl", [profile(f"u{i}@example.com") for i in range(3)])
    assert _send(activation, data, state) == 0
    typo = _unreachable(tmp_path / "typo")
    stale = jsonl(tmp_path / "s.jsonl", [profile(f"s{i}@example.com") for i in range(2)])
    assert _send(typo, stale, state, "--max-retry-time", "0") == 1
    return state, data


def test_status_names_each_destination_and_takes_state_after_the_subcommand(
    two_destinations: tuple[Path, Path],
) -> None:
    """Each outbox is shown by destination name, host and redacted URL beside its counts;
    --state works after the subcommand as before it."""
    state, _ = two_destinations
    code, out, err = _out("outbox", "status", "--state", str(state))
    assert code == 0, err
    assert f"'{NAME}' (127.0.0.1, http://127.0.0.1:" in out
    assert "urlTokenId=***" in out
    assert "0 pending, 3 delivered, 0 dead" in out
    assert "'Typo' (127.0.0.1, " in out
    assert "2 pending, 0 delivered, 0 dead" in out
    assert URL_TOKEN_ID not in out
    assert TOKEN not in out
    assert _out("outbox", "--state", str(state), "status")[1] == out


def test_purge_pending_asks_then_drops_only_that_destination(
    two_destinations: tuple[Path, Path],
) -> None:
    """Without a terminal, purge --pending refuses (exit 2) unless --yes; --destination picks
    one destination's outbox; an unknown name lists the names there are."""
    state, _ = two_destinations
    code, _, err = _out("outbox", "purge", "--pending", "--state", str(state))
    assert code == 2
    assert "drop 2 pending events" in err
    assert "confirm with --yes" in err
    code, _, err = _out("outbox", "purge", "--pending", "--destination", "Tpyo", "--yes",
                        "--state", str(state))  # fmt: skip
    assert code == 2
    assert "'Tpyo'" in err
    assert "'Typo'" in err
    assert len(err.strip().splitlines()) == 1
    code, out, _ = _out("outbox", "purge", "--pending", "--destination", "Typo", "--yes",
                        "--state", str(state))  # fmt: skip
    assert code == 0
    assert "outbox: 2 pending events dropped" in out
    _, status, _ = _out("outbox", "status", "--state", str(state))
    assert "'Typo' (127.0.0.1, " in status
    assert "0 pending, 0 delivered, 0 dead" in status
    assert "0 pending, 3 delivered, 0 dead" in status


def test_purge_delivered_older_than_forgets_what_was_sent(
    mock_qualtrics: MockQualtrics, two_destinations: tuple[Path, Path], tmp_path: Path
) -> None:
    """Fresh delivered events are not older than 1 day; --older-than 0 forgets them all, and
    the same input is then delivered again (a second run each)."""
    state, data = two_destinations
    code, out, _ = _out("outbox", "purge", "--delivered", "--older-than", "1", "--yes",
                        "--state", str(state))  # fmt: skip
    assert code == 0
    assert "outbox: 0 delivered events dropped" in out
    code, out, _ = _out("outbox", "purge", "--delivered", "--older-than", "0", "--yes",
                        "--destination", NAME, "--state", str(state))  # fmt: skip
    assert code == 0
    assert "outbox: 3 delivered events dropped" in out
    activation = tmp_path / "activation.toml"
    assert _send(activation, data, state) == 0
    [flow] = mock_qualtrics.workflows()
    assert len(mock_qualtrics.runs(flow["id"], wait_for=6)) == 6


def test_purge_options_that_do_not_go_together(two_destinations: tuple[Path, Path]) -> None:
    """--older-than or --destination without --pending/--delivered, or --reason with them: one
    line, exit 2, nothing dropped."""
    state, _ = two_destinations
    for args in (
        ["--older-than", "3"],
        ["--destination", NAME],
        ["--pending", "--reason", "400"],
    ):
        code, _, err = _out("outbox", "purge", "--yes", "--state", str(state), *args)
        assert code == 2, args
        assert len(err.strip().splitlines()) == 1, err
    assert "2 pending" in _out("outbox", "status", "--state", str(state))[1]


def test_send_keep_delivered_zero_forgets_at_the_next_run(
    mock_qualtrics: MockQualtrics, tmp_path: Path
) -> None:
    """send --keep-delivered 0: the next run prunes every delivered id first, so the same input
    is delivered again; with the default (30 days) it is skipped."""
    flow, activation = workflow_with_activation(mock_qualtrics, tmp_path)
    state = tmp_path / "state"
    data = jsonl(tmp_path / "p.jsonl", [profile("k@example.com")])
    assert _send(activation, data, state) == 0
    assert _send(activation, data, state) == 0
    assert len(mock_qualtrics.runs(flow["id"], wait_for=1)) == 1
    assert _send(activation, data, state, "--keep-delivered", "0") == 0
    assert len(mock_qualtrics.runs(flow["id"], wait_for=2)) == 2
