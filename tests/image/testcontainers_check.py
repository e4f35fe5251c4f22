"""The README's Testcontainers example, run for real against podman's Docker-compatible socket.

``podman system service`` serves the Docker API on a socket of its own; with ``DOCKER_HOST``
pointing there and Ryuk disabled (podman has no use for it here), the README's ten-line script
runs as written on the ``mock`` image: it starts the container, creates a user and a workflow
through ``.admin()``, posts an event to the workflow's ``trigger_url`` from the host and sees the
Succeeded run. The same script on the ``full`` image, and a pytest file using the
``mock_qualtrics_container`` fixture, show that the module takes either image.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness import ROOT, Checks

README_IMAGE = "qualtrics-mock:0.1.0"
FIXTURE_TEST = """
pytest_plugins = ["mock_qualtrics.testcontainers"]


def test_the_fixture_serves_a_mock(mock_qualtrics_container):
    admin = mock_qualtrics_container.admin()
    admin.add_user("fixture@example.com", "fixture-token")
    workflow = admin.create_workflow("fixture", owner="fixture@example.com")
    assert workflow["trigger_url"].startswith(mock_qualtrics_container.get_base_url() + "/")
"""


def readme_script() -> str:
    """The README's ```python block that uses QualtricsMockContainer."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    [script] = [b for b in blocks if "QualtricsMockContainer(" in b]
    return script


@contextmanager
def podman_socket() -> Iterator[str]:
    """``podman system service`` on a fresh socket; its ``DOCKER_HOST`` URL."""
    with tempfile.TemporaryDirectory(prefix="qharness-podman-") as scratch:
        socket_path = Path(scratch) / "podman.sock"
        url = f"unix://{socket_path}"
        service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", url],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while not socket_path.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            yield url
        finally:
            service.terminate()
            try:
                service.wait(timeout=15)
            except subprocess.TimeoutExpired:
                service.kill()
                service.wait()


def _run(args: list[str], env: dict[str, str], cwd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=240, check=False,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def check_testcontainers(checks: Checks, mock_image: str, full_image: str) -> None:
    """The README's script on both images, then the pytest fixture (on the full image)."""
    try:
        import testcontainers  # noqa: F401 - only whether the extra is installed
    except ImportError:
        checks.record(
            "testcontainers",
            False,
            'the testcontainers extra is not installed here: pip install ".[testcontainers]"',
        )
        return
    script = readme_script()
    with podman_socket() as docker_host, tempfile.TemporaryDirectory() as work:
        env = {  # the README's three variables
            **os.environ,
            "DOCKER_HOST": docker_host,
            "TESTCONTAINERS_RYUK_DISABLED": "true",
            "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
        }
        for target, image in (("mock", mock_image), ("full", full_image)):
            # As written on the mock image (podman finds the short name under localhost/).
            text = script if target == "mock" else script.replace(README_IMAGE, image)
            started = time.monotonic()
            done = _run([sys.executable, "-c", text], env, work)
            said = done.stdout.strip().splitlines()
            checks.record(
                f"testcontainers-readme-script ({target})",
                done.returncode == 0 and bool(said) and said[-1].startswith("Succeeded"),
                f"exit {done.returncode} in {time.monotonic() - started:.1f} s: "
                f"{(said or [''])[-1]!r}" + (f" {done.stderr.strip()[-400:]!r}" if done.returncode else ""),
            )  # fmt: skip
        test_file = Path(work) / "test_fixture.py"
        test_file.write_text(FIXTURE_TEST, encoding="utf-8")
        fixture_env = {**env, "QHARNESS_MOCK_IMAGE": full_image}
        done = _run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
            fixture_env,
            work,
        )
        last = (done.stdout.strip().splitlines() or [""])[-1]
        checks.record(
            "testcontainers-fixture",
            done.returncode == 0 and "1 passed" in last,
            f"pytest with mock_qualtrics_container on {full_image}: {last!r}",
        )
    if shutil.which("podman"):  # the containers are removed by the module; nothing left behind
        leftover = subprocess.run(
            ["podman", "ps", "--all", "--quiet", "--filter", f"ancestor={mock_image}"],
            capture_output=True, text=True, check=False,
        ).stdout.split()  # fmt: skip
        checks.record("testcontainers-cleanup", not leftover, f"{len(leftover)} container(s) left")
