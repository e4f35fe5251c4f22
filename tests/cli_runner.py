"""Running the real ``qharness`` entry point in a subprocess, as a user's shell would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "activation.toml"


def qharness(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """``qharness ARGS`` with ``stdin``; output captured, never raising on a non-zero exit."""
    return subprocess.run(
        [sys.executable, "-m", "connector.cli", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )
