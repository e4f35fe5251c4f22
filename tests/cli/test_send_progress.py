"""``send``'s progress: Click's bar on a terminal (a percentage for a file, a rate for stdin),
plain lines elsewhere."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

from support.cli import QHARNESS, qharness
from support.destination import TOKEN, workflow_with_activation
from support.profiles import jsonl, profile

from connector.plugin import MockQualtrics


def _on_a_terminal(args: list[str], env: dict[str, str], piped: bytes | None) -> tuple[int, bytes]:
    """Run with stderr on a pseudo-terminal (and ``piped`` into stdin through a pipe);
    (exit code, what the terminal showed)."""
    main_fd, terminal = pty.openpty()
    with subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL if piped is None else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=env,
    ) as proc:
        os.close(terminal)
        if proc.stdin is not None and piped is not None:
            proc.stdin.write(piped)
            proc.stdin.close()
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
    return proc.returncode, shown


def test_a_terminal_gets_a_bar_and_plain_output_gets_none(
    mock_qualtrics: MockQualtrics, tmp_path: Path
) -> None:
    """A file on a terminal: a percentage; stdin on a terminal: counts and a rate, no
    percentage; stderr to a pipe: no control character at all."""
    _, activation = workflow_with_activation(mock_qualtrics, tmp_path)
    data = jsonl(tmp_path / "p.jsonl", [profile(f"u{i}@example.com") for i in range(30)])
    env = {**os.environ, "QUALTRICS_API_TOKEN": TOKEN}
    base = [*QHARNESS, "send", str(activation)]  # a process: only a process has a terminal
    flags = ["--allow-http-loopback", "--rate", "20"]  # 1.5 s: a few progress ticks

    code, shown = _on_a_terminal(
        [*base, str(data), *flags, "--state", str(tmp_path / "a")], env, None
    )
    assert code == 0
    assert b"send  [" in shown  # Click's bar: the label, then the bar
    assert b"%" in shown

    stdin_args = [*base, "-", *flags, "--state", str(tmp_path / "b")]
    code, shown = _on_a_terminal(stdin_args, env, data.read_bytes())
    assert code == 0
    assert b"send  [" in shown
    assert b"delivered/s" in shown
    assert b"%" not in shown

    piped = qharness(
        "send",
        str(activation),
        str(data),
        *flags,
        "--state",
        str(tmp_path / "c"),
        env={"QUALTRICS_API_TOKEN": TOKEN},
    )
    assert piped.returncode == 0
    assert b"\r" not in piped.stderr
    assert b"\x1b" not in piped.stderr
    assert b"%" not in piped.stderr
