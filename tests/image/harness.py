"""What every image check shares: the repository's paths, the example workflow, podman, HTTP to
127.0.0.1 only, and the PASS/FAIL tally."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "examples" / "workflows.toml"
CONTAINERS_CONF = ROOT / ".ci" / "image" / "containers.conf"
ADMIN_TOKEN = "image-check-admin-token-0123456789"  # a throwaway container's, 34 characters
SERVICE_NAME = "qualtrics-mock"
CONFIG = tomllib.loads(WORKFLOWS.read_text(encoding="utf-8"))
WORKFLOW = next(wf for wf in CONFIG["workflows"] if wf.get("enabled", True))


class Checks:
    """PASS/FAIL lines as they happen, and the tally for the last line."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def record(self, name: str, ok: bool, detail: str) -> bool:
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok

    def skip(self, name: str, reason: str) -> None:
        print(f"SKIP {name}: {reason}", flush=True)


def podman(
    *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args],
        check=check,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 15,
) -> tuple[int, bytes]:
    assert url.startswith("http://127.0.0.1:"), url  # only the container under test
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def trigger(base_url: str, email: str) -> tuple[int, str | None]:
    """POST one event to the example workflow as its owner; the status and the requestId."""
    user = CONFIG["users"][0]
    credentials = f"{user['username']}:{user['api_token']}".encode()
    status, body = http(
        f"{base_url}/inbound-event/v1/events/json/triggers?urlTokenId={WORKFLOW['url_token_id']}",
        method="POST",
        body=json.dumps({"identityMap": {"Email": [{"id": email}]}}).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(credentials).decode(),
        },
    )
    return status, json.loads(body)["meta"]["requestId"] if status == 202 else None
