"""``send`` when its outbox stops taking writes mid-run: one line naming the state directory and
the cause, the summary and ``--report-json`` still written, exit 1, and nothing lost.

Two ways to fill the disk, both through the CLI against the live mock: a real 200 KiB tmpfs
(needs root to mount; skipped when ``mount`` fails), and SQLite's own page limit
(``max_page_count``, which fails writes with the same ``database or disk is full``), which runs
everywhere.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from support.destination import TOKEN, URL_TOKEN_ID, workflow_with_activation
from support.profiles import jsonl, profile, profiles

from connector.cli import main
from connector.delivery import outbox as outbox_module
from connector.plugin import MockQualtrics

#: 150 profiles of about 3 KB each: more than a 200 KiB disk holds.
PROFILES = 150


def _big_profiles() -> list[dict[str, Any]]:
    return [
        profile(f"user{index}@example.com", first_name=f"Ana{index}-" + "x" * 3000)
        for index in range(PROFILES)
    ]


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 200 KiB tmpfs, unmounted afterwards."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _send(activation: Path, data: Path, state: Path, report: Path) -> int:
    args = ["send", str(activation), str(data), "--allow-http-loopback", "--rate", "0"]
    return main([*args, "--state", str(state), "--report-json", str(report)])


def _said_plainly(err: str, state: Path, report: Path) -> dict[str, Any]:
    """The store failure is the last line, names the directory and the cause; no traceback."""
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"error: {str(state)!r}: the outbox failed: "), err
    assert "database or disk is full" in last
    assert "internal error" not in err
    assert "Traceback" not in err
    assert TOKEN not in err
    assert URL_TOKEN_ID not in err
    written: dict[str, Any] = orjson.loads(report.read_bytes())
    assert any(alert["kind"] == "store-error" for alert in written["alerts"]), written["alerts"]
    return written


def test_a_full_tmpfs_is_one_line_and_a_report(
    mock_qualtrics: MockQualtrics,
    tmp_path: Path,
    tiny_disk: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A state directory on a 200 KiB tmpfs fills mid-run: exit 1, the summary and the report
    are written, and once there is room a rerun delivers every profile (nothing was lost)."""
    flow, activation = workflow_with_activation(mock_qualtrics, tmp_path)
    data = jsonl(tmp_path / "p.jsonl", _big_profiles())
    state, report = tiny_disk / "state", tmp_path / "r.json"
    assert _send(activation, data, state, report) == 1
    out, err = capsys.readouterr()
    assert out.startswith("send: ")
    _said_plainly(err, state, report)

    subprocess.run(["mount", "-o", "remount,size=64m", str(tiny_disk)], check=True)
    assert _send(activation, data, state, report) == 0
    runs = mock_qualtrics.all_runs(limit=PROFILES + 10)
    assert len({run["fields"]["email"] for run in runs}) == PROFILES
    assert flow["id"]


def test_a_store_that_refuses_writes_is_one_line_and_a_report(
    mock_qualtrics: MockQualtrics,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SQLite's page limit reached mid-run (the same error as a full disk): exit 1, one line,
    the summary and the report."""
    real_connect = sqlite3.connect

    def small(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = real_connect(*args, **kwargs)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA max_page_count=12")
        return db

    monkeypatch.setattr(outbox_module.sqlite3, "connect", small)
    _, activation = workflow_with_activation(mock_qualtrics, tmp_path)
    data = jsonl(tmp_path / "p.jsonl", profiles(300))
    state, report = tmp_path / "state", tmp_path / "r.json"
    assert _send(activation, data, state, report) == 1
    out, err = capsys.readouterr()
    assert out.startswith("send: ")
    written = _said_plainly(err, state, report)
    assert written["profiles_received"] > 0
