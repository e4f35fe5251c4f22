"""Shell lines from the README and the CI recipes, run by bash as a user's shell would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from .cli import environment

__all__ = ["bash"]


def bash(
    script: str,
    cwd: Path,
    *,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 240,
) -> subprocess.CompletedProcess[str]:
    """``bash -c SCRIPT`` in ``cwd``, this venv's ``bin`` first on PATH (so ``qharness`` is the
    installed script); ``env`` overrides this process's environment (``None`` removes a name)."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        ["bash", "-c", script],
        cwd=cwd,
        env=environment({"PATH": path, **(env or {})}),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
