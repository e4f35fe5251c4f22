"""``send``'s progress: a bar with a percentage on a terminal, plain lines elsewhere."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from send_support import TOKEN, jsonl, profile, workflow

from connector.plugin import MockQualtrics


def test_a_terminal_gets_a_percentage_and_plain_output_gets_none(
    mock_qualtrics: MockQualtrics, tmp_path: Path
) -> None:
    """stderr on a pty: Click's bar with a percentage; stderr to a pipe: no control character."""
    _, activation = workflow(mock_qualtrics, tmp_path)
    data = jsonl(tmp_path / "p.jsonl", [profile(f"u{i}@example.com") for i in range(30)])
    env = {**os.environ, "QUALTRICS_API_TOKEN": TOKEN}
    args = [sys.executable, "-m", "connector.cli", "send", str(activation), str(data)]
    args += ["--allow-http-loopback", "--rate", "20"]  # 1.5 s: a few progress ticks

    main_fd, terminal = pty.openpty()
    with subprocess.Popen(
        [*args, "--state", str(tmp_path / "a")],
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env,
    ) as proc:
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(main_fd, 4096)
            except OSError:  # the pty closed with the process
                break
            if not chunk:
                break
            shown += chunk
        proc.wait(timeout=60)
    os.close(main_fd)
    assert proc.returncode == 0
    assert b"100%" in shown or b"%" in shown
    assert b"send  [" in shown  # Click's bar: label, then the bar

    piped = subprocess.run(
        [*args, "--state", str(tmp_path / "b")],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert piped.returncode == 0
    assert b"\r" not in piped.stderr
    assert b"\x1b" not in piped.stderr
    assert b"%" not in piped.stderr
