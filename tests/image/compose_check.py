"""examples/ci/compose.yaml run for real, with podman-compose, where it is installed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time

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

#: The app as `qharness send` (the `full` image): the bundled example aimed at the app's trigger
#: URL, 5 sample profiles, plain http to the service's name allowed with --allow-mock-host.
APP_SEND = """
set -eu
python3 - <<'EOF'
import os, re
from connector.example import bundled_activation_bytes
text = bundled_activation_bytes().decode()
text = re.sub(r'(?m)^url = ".*"$', 'url = "' + os.environ["QUALTRICS_TRIGGER_URL"] + '"', text)
open("/tmp/activation.toml", "w", encoding="utf-8").write(text)
EOF
qharness sample-profiles /tmp/activation.toml --count 5 > /tmp/profiles.jsonl
qharness send /tmp/activation.toml /tmp/profiles.jsonl --state /tmp/state --allow-mock-host qualtrics-mock
"""


def check_compose(checks: Checks, mock_image: str, full_image: str) -> None:
    """examples/ci/compose.yaml under podman-compose: the mock (the ``mock`` image) as a service;
    ``mock-setup`` (the ``full`` image) creates the user and the workflow through the admin API
    by the service's name; then the "app", the ``full`` image running a one-shot sender with the
    app's environment, reaches the mock by its service name (Host `qualtrics-mock:8080`) and gets
    202. podman-compose does not wait for `service_healthy`, so this waits for health itself and
    runs each service in turn (`--no-deps`)."""
    if shutil.which("podman-compose") is None:
        checks.skip("compose", "podman-compose is not installed (apt-get install podman-compose)")
        return
    port = free_port()
    os.environ.update(
        {
            "APP_IMAGE": full_image,
            "QHARNESS_IMAGE": full_image,
            "QHARNESS_MOCK_IMAGE": mock_image,
            "QHARNESS_MOCK_PORT": str(port),
        }
    )
    project = f"qharness-image-check-{os.getpid()}"
    compose = [
        "podman-compose",
        "--project-name",
        project,
        "-f",
        str(ROOT / "examples" / "ci" / "compose.yaml"),
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
        setup = run("run", "--rm", "--no-deps", "mock-setup")
        ready = [line for line in setup.stdout.splitlines() if line.startswith("mock ready:")]
        app = run("run", "--rm", "--no-deps", "app", "python3", "-c", APP_ONE_SHOT)
        said = [line for line in app.stdout.splitlines() if line.startswith("app got")]
        sent = run("run", "--rm", "--no-deps", "app", "sh", "-c", APP_SEND)
        # podman-compose runs it with a tty: the summary line comes after terminal escapes.
        summary = re.findall(r"send: (\d+ received = \d+ delivered)", sent.stdout)
        checks.record(
            "compose-send-by-service-name",
            sent.returncode == 0 and summary == ["5 received = 5 delivered"],
            f"qharness send --allow-mock-host qualtrics-mock in the app container: exit "
            f"{sent.returncode}, {summary or sent.stderr.strip()[-300:]!r}",
        )
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
            ready
            == ["mock ready: http://qualtrics-mock:8080/inbound-event/v1/events/json/triggers"]
            and said == ["app got 202"]
            and len(runs) == 1,
            f"mock healthy: {healthy}; setup: {ready or setup.stderr.strip()[-200:]!r}; "
            f"app: {said or app.stderr.strip()[-200:]!r}; runs in the mock: {len(runs)}",
        )
    finally:
        run("down", "--volumes")
        subprocess.run(
            ["podman", "network", "rm", "--force", f"{project}_default"],
            capture_output=True, check=False,
        )  # fmt: skip
