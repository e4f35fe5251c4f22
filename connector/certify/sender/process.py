"""Running the sender: once, with its environment, its output streamed and its tail kept.

The command starts in a new session (its own process group), so that ``--timeout`` ends it with
every child it started (``sh -c``, a ``curl`` in a loop, ...): SIGTERM to the group, then SIGKILL
after a grace period. Its stdout and stderr go to ours as they come, line by line, and the last
lines of both are kept for the report, with the token and the trigger URL's ``urlTokenId``
replaced by ``***``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess  # running the user's sender is the point  # nosec B404
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Final

from ...errors import UsageError

__all__ = ["SenderRun", "check_command", "run_sender"]

#: Lines of output kept for the report.
TAIL_LINES: Final = 40
#: Seconds between SIGTERM and SIGKILL when the timeout ends the sender.
GRACE_SECONDS: Final = 3.0


@dataclass(slots=True)
class SenderRun:
    """How the sender ended: exit code (``None`` when the timeout ended it), time, output tail."""

    exit_code: int | None
    duration: float
    timed_out: bool = False
    tail: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.timed_out:
            return f"still running after {self.duration:.1f} s: ended at --timeout with its process group"
        if self.exit_code is not None and self.exit_code < 0:
            return f"killed by signal {-self.exit_code} after {self.duration:.1f} s"
        return f"exited {self.exit_code} after {self.duration:.1f} s"


def check_command(command: Sequence[str]) -> None:
    """A usage error (exit 2) when COMMAND is missing, not found or not executable."""
    if not command or not command[0].strip():
        raise UsageError(
            "no COMMAND to certify: give the sender after --, e.g. "
            "qharness certify-sender -- python3 my_sender.py"
        )
    program = command[0]
    if os.sep in program:
        if not os.path.exists(program):
            raise UsageError(f"COMMAND {program!r}: no such file")
        if os.path.isdir(program) or not os.access(program, os.X_OK):
            raise UsageError(
                f"COMMAND {program!r}: not executable (chmod +x it, or run it through its "
                "interpreter, e.g. -- sh script.sh)"
            )
    elif shutil.which(program) is None:
        raise UsageError(f"COMMAND {program!r}: not found on PATH")


def _pump(stream: IO[bytes], out: IO[str], tail: deque[str], redact: Callable[[str], str]) -> None:
    for raw in iter(stream.readline, b""):
        line = redact(raw.decode("utf-8", "replace").rstrip("\r\n"))
        tail.append(line)
        try:
            out.write(f"  | {line}\n")
            out.flush()
        except (OSError, ValueError):  # our own output went away: keep reading, keep the tail
            pass
    stream.close()


def _end_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the sender's process group, then SIGKILL what is left after the grace period."""
    for sig, wait in ((signal.SIGTERM, GRACE_SECONDS), (signal.SIGKILL, GRACE_SECONDS)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; children may linger in the group: SIGKILL reaches them.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        return


def run_sender(
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    timeout: float,
    redact: Callable[[str], str],
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> SenderRun:
    """Run ``command`` once with ``env`` added to ours; stream its output; end it at ``timeout``."""
    check_command(command)
    started = time.monotonic()
    try:
        process = subprocess.Popen(  # noqa: S603 - the user's own sender  # nosec B603
            list(command),
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise UsageError(f"COMMAND {command[0]!r}: cannot run: {exc.strerror or exc}") from None
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    assert process.stdout is not None  # noqa: S101 - PIPE above
    assert process.stderr is not None  # noqa: S101 - PIPE above
    pumps = [
        threading.Thread(
            target=_pump, args=(process.stdout, stdout or sys.stdout, tail, redact), daemon=True
        ),
        threading.Thread(
            target=_pump, args=(process.stderr, stderr or sys.stderr, tail, redact), daemon=True
        ),
    ]
    for pump in pumps:
        pump.start()
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _end_group(process)
    except BaseException:
        _end_group(process)
        raise
    else:
        # The sender is done; anything it left behind in its group goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    for pump in pumps:
        pump.join(timeout=GRACE_SECONDS)
    return SenderRun(
        None if timed_out else process.returncode,
        time.monotonic() - started,
        timed_out,
        list(tail),
    )
