"""The README's local loop runs as written: mock, sample profiles, send, runs, the browser page.

The block is run by bash, verbatim except for one substitution: port 8080 becomes a free port (in
the block and in the copied example files), because several test runs share this machine.
"""

from __future__ import annotations

import re
import shutil
import socket
import sys
from pathlib import Path

from support.paths import EXAMPLES, README
from support.shell import bash

README_TEXT = README.read_text(encoding="utf-8")
SHELL_BLOCKS = re.findall(r"```sh\n(.*?)```", README_TEXT, flags=re.DOTALL)


def _local_loop() -> str:
    [block] = [b for b in SHELL_BLOCKS if "qharness mock serve --workflows" in b and "&" in b]
    return block


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_local_loop_runs_verbatim(tmp_path: Path) -> None:
    """From a fresh directory holding only examples/, the loop delivers 20 events, `runs` lists
    them, and the mock's UI page shows the workflow, with no hand editing of any file."""
    port = str(_free_port())
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    for example in (tmp_path / "examples").glob("*.toml"):
        example.write_text(example.read_text(encoding="utf-8").replace("8080", port))
    block = _local_loop().replace("8080", port)
    page = (
        f'{sys.executable} -c "import httpx; '
        f"r = httpx.get('http://127.0.0.1:{port}/'); print('UI', r.status_code, "
        f"'Post-purchase CSAT' in r.text)\""
    )
    script = f"set -e\ntrap 'kill %1 2>/dev/null; wait' EXIT\n{block}\n{page}\n"
    unset: dict[str, str | None] = {"QUALTRICS_API_TOKEN": None, "QHARNESS_MOCK_ADMIN_TOKEN": None}
    done = bash(script, tmp_path, env=unset, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "20 received" in done.stdout, done.stdout
    assert "20 delivered" in done.stdout, done.stdout
    table = [line for line in done.stdout.splitlines() if "Post-purchase CSAT" in line]
    assert len(table) == 20, done.stdout
    assert "UI 200 True" in done.stdout
