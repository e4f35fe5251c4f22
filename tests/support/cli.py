"""``qharness`` for tests: in-process through ``main`` by default, as a real process on request.

In-process runs take milliseconds instead of the ~0.5 s an interpreter start costs, and they run
exactly the code a user's shell runs: ``main`` is the console script, with its exit codes and its
one-line errors. A subprocess is still the right tool where process isolation is the point: the
installed entry point, signals, a stdin pipe that stays open, a server's lifetime, ``cwd``.
Both return a :class:`subprocess.CompletedProcess` with bytes, so a test can move between them
by changing one name.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from click.testing import CliRunner

from connector.cli import main

__all__ = ["QHARNESS", "environment", "qharness", "qharness_process", "qharness_text"]

#: The installed console script, beside this interpreter (``pip install .`` puts it there): the
#: subprocess tests run exactly what a user's shell runs.
QHARNESS = [str(Path(sys.executable).with_name("qharness"))]


def qharness(
    *args: str, stdin: bytes = b"", env: Mapping[str, str | None] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``qharness ARGS`` in this process: stdin given, stdout and stderr captured apart.

    ``env`` overrides variables for the run only (``None`` removes one). Click's isolation swaps
    ``sys.stdin``/``stdout``/``stderr`` and ``os.environ`` and restores them afterwards, so one
    run cannot leak into the next.
    """
    argv = list(args)
    with CliRunner().isolation(input=stdin, env=env) as (stdout, stderr, _):
        code = main(argv)
        sys.stdout.flush()
        sys.stderr.flush()
    return subprocess.CompletedProcess(
        ["qharness", *argv], code, stdout.getvalue(), stderr.getvalue()
    )


def qharness_text(
    *args: str, stdin: bytes = b"", env: Mapping[str, str | None] | None = None
) -> tuple[int, str, str]:
    """``qharness(...)`` as (exit code, stdout, stderr), the streams decoded as UTF-8."""
    done = qharness(*args, stdin=stdin, env=env)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def qharness_process(
    *args: str,
    stdin: bytes = b"",
    env: Mapping[str, str | None] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[bytes]:
    """``qharness ARGS`` in a fresh interpreter, as a user's shell runs it; never raises on exit.

    ``env`` overrides this process's environment (``None`` removes a variable).
    """
    return subprocess.run(
        [*QHARNESS, *args],
        input=stdin,
        capture_output=True,
        env=environment(env),
        timeout=timeout,
        check=False,
    )


def environment(overrides: Mapping[str, str | None] | None) -> dict[str, str]:
    """This process's environment with ``overrides`` (``None`` removes a variable)."""
    environ = dict(os.environ)
    for name, value in (overrides or {}).items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return environ
