"""examples/ci/compose.yaml run for real, with podman-compose, where it is installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from harness import ADMIN_TOKEN, ROOT, WORKFLOW, Checks, free_port, http

APP_ONE_SHOT = """
import os, httpx
response = httpx.post(
    os.environ["QUALTRICS_TRIGGER_URL"],
    json={"identityMap": {"Email": [{"id": "compose@example.com"}]}},
    auth=(os.environ["QUALTRICS_USERNAME"], os.environ["QUALTRICS_API_TOKEN"]),
)
print("app got", response.status_code)
"""


def check_compose(checks: Checks, image: str, public_host: bool) -> None:
    """examples/ci/compose.yaml under podman-compose: the mock as a service, and as the "app" this
    image running a one-shot sender with the app's environment, which reaches the mock by its
    service name (Host `qualtrics-mock:8080`) and gets 202. podman-compose does not wait for
    `service_healthy`, so this waits for health itself."""
    if shutil.which("podman-compose") is None:
        checks.skip("compose", "podman-compose is not installed (apt-get install podman-compose)")
        return
    port = free_port()
    os.environ.update(
        {"APP_IMAGE": image, "QHARNESS_MOCK_IMAGE": image, "QHARNESS_MOCK_PORT": str(port)}
    )
    files = ["-f", str(ROOT / "examples" / "ci" / "compose.yaml")]
    with tempfile.TemporaryDirectory(prefix="qharness-compose-") as scratch:
        if not public_host:  # until `mock serve` has --public-host, leave the names out
            override = Path(scratch) / "no-public-hosts.yaml"
            override.write_text(
                'services:\n  qualtrics-mock:\n    environment:\n      QHARNESS_PUBLIC_HOSTS: ""\n',
                encoding="utf-8",
            )
            files += ["-f", str(override)]
        compose = [
            "podman-compose",
            "--project-name",
            f"qharness-image-check-{os.getpid()}",
            *files,
        ]

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*compose, *args], capture_output=True, text=True, timeout=180, check=False,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip

        try:
            run("up", "-d", "qualtrics-mock")
            deadline = time.monotonic() + 30
            healthy = False
            while not healthy and time.monotonic() < deadline:
                try:
                    healthy = http(f"http://127.0.0.1:{port}/__admin/health", timeout=1)[0] == 200
                except OSError:
                    time.sleep(0.1)
            app = run("run", "--rm", "app", "python3", "-c", APP_ONE_SHOT)
            said = [line for line in app.stdout.splitlines() if line.startswith("app got")]
            _, body = (
                http(
                    f"http://127.0.0.1:{port}/__admin/workflows/{WORKFLOW['id']}/runs?wait_for=1&timeout=10",
                    headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                )
                if healthy
                else (0, b"{}")
            )
            runs = [
                r
                for r in json.loads(body).get("runs", [])
                if r.get("fields", {}).get("email") == "compose@example.com"
            ]
            checks.record(
                "compose",
                said == ["app got 202"] and len(runs) == 1,
                f"mock healthy: {healthy}; {said or app.stderr.strip()[-200:]!r}; runs in the mock: {len(runs)}",
            )
        finally:
            run("down", "--volumes")
            subprocess.run(
                ["podman", "network", "rm", "--force", f"qharness-image-check-{os.getpid()}_default"],
                capture_output=True, check=False,
            )  # fmt: skip
