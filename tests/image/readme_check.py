"""The README's podman commands, run as written after ``nox -s image`` has built the images.

The block (the README's ```sh block that runs ``podman run``) runs under bash from the
repository's root, as a reader would paste it, with two substitutions that several runs on one
machine need: port 8080 becomes a free port when 8080 is taken, and the container's and the
volume's names get this run's pid. It must start the mock, get health, open the UI with Basic auth and stop it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess

from harness import ROOT, Checks


def podman_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.DOTALL)
    [block] = [b for b in blocks if "podman run" in b and "/__admin/health" in b]
    return block


def _port_8080_free() -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 8080))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def check_readme_podman(checks: Checks) -> None:
    block = podman_block()
    name = f"qualtrics-mock-readme-{os.getpid()}"
    volume = f"qualtrics-mock-data-readme-{os.getpid()}"
    script = (
        block.replace("--name qualtrics-mock ", f"--name {name} ")
        .replace("stop qualtrics-mock", f"stop {name}")
        .replace("qualtrics-mock-data:/data", f"{volume}:/data")
    )
    port = "8080" if _port_8080_free() else str(_free_port())
    script = script.replace("8080:8080", f"{port}:8080").replace(
        "127.0.0.1:8080/", f"127.0.0.1:{port}/"
    )
    # The reader's shell: CONTAINERS_CONF comes from the block itself, not from this process.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CONTAINERS_CONF", "QHARNESS_MOCK_ADMIN_TOKEN")
    }
    try:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        for leftover in (
            ["rm", "--force", "--time", "0", name],
            ["volume", "rm", "--force", volume],
        ):
            subprocess.run(["podman", *leftover], capture_output=True, check=False)
    out = done.stdout
    checks.record(
        "readme-podman-commands",
        done.returncode == 0 and '"status":"ok"' in out.replace(" ", "") and "UI 200" in out,
        f"exit {done.returncode} (port {port}): {out.strip()[-160:]!r}"
        + (f" {done.stderr.strip()[-300:]!r}" if done.returncode else ""),
    )
