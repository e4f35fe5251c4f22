"""``qharness mock serve`` as a real process: for what needs one (SIGTERM, SIGKILL, its file).

An in-process mock (the ``mock_qualtrics`` fixture, ``LiveMock``) is faster and is the default;
these helpers exist for the tests about the served process itself.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from .cli import QHARNESS

__all__ = ["MOCK_TOKEN", "MOCK_TOKEN_ID", "mock_file", "serve"]

MOCK_TOKEN_ID = "5f0c6c0e-8a47-4c1b-9d52-0b7c2a61d9e3"
MOCK_TOKEN = "tok"
#: A workflows file with one user (``u@example.com``, token ``tok``) and one workflow, ``WF``.
_ONE_WORKFLOW = f"""
[[users]]
username = "u@example.com"
api_token = "{MOCK_TOKEN}"

[[workflows]]
id = "WF"
name = "W"
owner = "u@example.com"
url_token_id = "{MOCK_TOKEN_ID}"
"""


def mock_file(path: Path, extra: str = "") -> Path:
    """Writes the one-workflow file (then ``extra``, such as a ``[limits]`` table) to ``path``."""
    path.write_text(_ONE_WORKFLOW + extra, encoding="utf-8")
    return path


def serve(*args: str, stderr: int = subprocess.PIPE) -> tuple[subprocess.Popen[str], str]:
    """Starts ``qharness mock serve --port 0 ARGS``; (the process, its base URL) once it listens.

    The caller ends the process (``terminate``, ``send_signal``) and reaps it (``communicate``).
    """
    process = subprocess.Popen(
        [*QHARNESS, "mock", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    if match is None:
        process.kill()
        _, err = process.communicate(timeout=30)
        raise AssertionError(f"the mock did not start: {line!r} {err or ''}")
    return process, match.group(0)
