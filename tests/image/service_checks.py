"""The image as a CI service uses it: each check runs containers on a free 127.0.0.1 port and
reports through :class:`harness.Checks`."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness import (
    ADMIN_TOKEN,
    ROOT,
    SERVICE_NAME,
    WORKFLOW,
    WORKFLOWS,
    Checks,
    free_port,
    http,
    podman,
    trigger,
    version,
)

STOP_BUDGET_S = 5.0
BURST = 20
#: One seed, so this check proves the image certifies and varies with nothing but the image; rare
#: profiles are the property tests' job. A failure prints its FAIL lines to replay outside.
CERTIFY_SEED = "20261206"


@contextmanager
def volume() -> Iterator[str]:
    name = f"qharness-image-check-{os.getpid()}"
    podman("volume", "create", name)
    try:
        yield name
    finally:
        podman("volume", "rm", "--force", name, check=False)


def run_mock(
    image: str, port: int, data_volume: str, env: dict[str, str]
) -> tuple[str, float | None]:
    """Start the mock detached; its id and the seconds from `podman run` to the first 200."""
    os.environ.update(env)  # `--env NAME` passes the value on, keeping it out of podman's argv
    env_args = [item for key in env for item in ("--env", key)]
    started = time.monotonic()
    container = podman(
        "run",
        "--detach",
        "--health-interval=disable",  # no systemd timers here; `podman healthcheck run` still works
        "--publish",
        f"127.0.0.1:{port}:8080",
        "--volume",
        f"{WORKFLOWS}:/config/workflows.toml:ro",
        "--volume",
        f"{data_volume}:/data",
        *env_args,
        image,
    ).stdout.strip()
    deadline = started + 30
    while time.monotonic() < deadline:
        try:
            status, _ = http(f"http://127.0.0.1:{port}/__admin/health", timeout=1)
        except OSError:
            status = 0
        if status == 200:
            return container, time.monotonic() - started
        if podman("inspect", "--format", "{{.State.Running}}", container).stdout.strip() != "true":
            break
        time.sleep(0.02)
    return container, None


def remove(container: str) -> None:
    podman("rm", "--force", "--volumes", "--time", "0", container, check=False)


def check_refusals(checks: Checks, image: str) -> None:
    for label, env in (
        ("no token", []),
        ("a 15-character token", ["--env", "QHARNESS_MOCK_ADMIN_TOKEN=" + "x" * 15]),
    ):
        result = podman("run", "--rm", *env, image, check=False, timeout=60)
        message = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        checks.record(
            f"refuses-weak-token ({label})",
            result.returncode == 2 and "QHARNESS_MOCK_ADMIN_TOKEN" in message,
            f"exit {result.returncode}: {message!r}",
        )


def check_labels(checks: Checks, image: str) -> None:
    labels = json.loads(podman("image", "inspect", "--format", "{{json .Labels}}", image).stdout)
    wanted = {
        "org.opencontainers.image.version": version(),
        "org.opencontainers.image.licenses": "MIT",
    }
    checks.record(
        "oci-labels",
        all(labels.get(k) == v for k, v in wanted.items())
        and "org.opencontainers.image.source" in labels,
        ", ".join(
            f"{k.rsplit('.', 1)[1]}={labels.get(k)!r}"
            for k in sorted(labels)
            if k.startswith("org.opencontainers")
        ),
    )


def check_running(checks: Checks, container: str, base_url: str, public_host: bool) -> str | None:
    """Health, non-root, secrets, trigger and run; the accepted requestId."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    status, body = http(f"{base_url}/__admin/health")
    checks.record("health", status == 200, f"GET /__admin/health -> {status} {body[:60]!r}")
    health = podman("healthcheck", "run", container, check=False)
    checks.record(
        "healthcheck", health.returncode == 0, f"podman healthcheck run -> exit {health.returncode}"
    )
    top = podman("top", container, "user", "pid", "args").stdout.splitlines()[1:]
    users = {line.split()[0] for line in top if line.strip()}
    checks.record(
        "non-root",
        bool(users) and "root" not in users and "0" not in users,
        f"process users {sorted(users)}",
    )
    checks.record(
        "token-not-in-argv",
        all(ADMIN_TOKEN not in line for line in top),
        f"{len(top)} processes' argv searched",
    )
    status, request_id = trigger(base_url, "image-check@example.com")
    checks.record("trigger", status == 202, f"POST trigger -> {status}")
    status, body = http(
        f"{base_url}/__admin/workflows/{WORKFLOW['id']}/runs?wait_for=1&timeout=10", headers=admin
    )
    runs = json.loads(body).get("runs", []) if status == 200 else []
    ours = [r for r in runs if r.get("requestId") == request_id]
    checks.record(
        "run-recorded",
        bool(ours)
        and ours[0]["status"] == "Succeeded"
        and ours[0]["fields"].get("email") == "image-check@example.com",
        f"admin API -> {status}, {len(runs)} run(s), ours: {ours[0]['status'] if ours else 'missing'}",
    )
    if public_host:
        check_service_name(checks, base_url)
    else:
        checks.skip(
            "service-name",
            "this build's `qharness mock serve` has no --public-host yet; "
            "QHARNESS_PUBLIC_HOSTS is passed through once it does",
        )
    return request_id


def check_service_name(checks: Checks, base_url: str) -> None:
    """Started with QHARNESS_PUBLIC_HOSTS=qualtrics-mock: that Host is answered, another is 421.
    A build whose mock has --public-host but no Host allow-list yet (no /__admin/behaviours, which
    came with it) is told apart, so the check follows the mock as it lands."""
    named, _ = http(f"{base_url}/__admin/health", headers={"Host": f"{SERVICE_NAME}:8080"})
    other, _ = http(f"{base_url}/__admin/health", headers={"Host": "attacker.example:8080"})
    detail = f"Host {SERVICE_NAME} -> {named}, Host attacker.example -> {other}"
    if named == 200 and other != 421:
        registry, _ = http(
            f"{base_url}/__admin/behaviours",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        if registry == 404:
            checks.record("service-name", True, f"{detail} (this build has no Host allow-list yet)")
            return
    checks.record("service-name", named == 200 and other == 421, detail)


def check_certify(checks: Checks, image: str, mock: str) -> None:
    """The README's certification without Python: `qharness certify` from the image, on an
    activation in a mounted directory, writing JUnit there as the caller's uid. It shares the
    mock's network namespace (so the mock is on loopback, where the connector may send plain
    http) and certifies against it with --mock."""
    with tempfile.TemporaryDirectory(prefix="qharness-image-") as work:
        Path(work).chmod(0o777)  # written by uid 65534 in the container
        shutil.copy(ROOT / "examples" / "activation.toml", Path(work) / "activation.toml")
        result = podman(
            "run", "--rm", "--network", f"container:{mock}", "--env", "QHARNESS_MOCK_ADMIN_TOKEN",
            "--volume", f"{work}:/work", "--workdir", "/work", "--user", "65534:65534",
            image, "qharness", "certify", "activation.toml", "--mock", "http://127.0.0.1:8080",
            "--examples", "100", "--seed", CERTIFY_SEED, "--junit", "junit.xml",
            check=False, timeout=300,
        )  # fmt: skip
        junit = Path(work) / "junit.xml"
        cases = junit.read_text(encoding="utf-8").count("<testcase") if junit.exists() else 0
    lines = result.stdout.strip().splitlines() or [""]
    failed = [line for line in lines if line.startswith("FAIL")]
    # podman 4.3 logs its own `time=... level=error` lines about systemd health timers.
    said = [line for line in result.stderr.strip().splitlines() if not line.startswith("time=")]
    checks.record(
        "certify-in-container",
        result.returncode == 0 and lines[-1].startswith("certification passed") and cases == 12,
        f"exit {result.returncode}, {cases} JUnit testcases: {lines[-1]!r}"
        + (f"; {failed!r}; {lines[0]!r}; stderr {said[-5:]!r}" if result.returncode else ""),
    )


def burst(base_url: str, count: int = BURST) -> list[str]:
    """Events accepted (202) just before SIGTERM, their runs still queued (run delay 0.5 s)."""
    accepted = [trigger(base_url, f"burst-{i}@example.com") for i in range(count)]
    return [request_id for status, request_id in accepted if status == 202 and request_id]


def check_stop(checks: Checks, container: str) -> float:
    started = time.monotonic()
    podman("kill", "--signal", "TERM", container)
    code = podman("wait", container, timeout=30).stdout.strip()
    elapsed = time.monotonic() - started
    logs = podman("logs", container, check=False)
    flushed = "store flushed" in logs.stdout + logs.stderr
    checks.record(
        "sigterm",
        elapsed < STOP_BUDGET_S and code == "0" and flushed,
        f"exited {code} in {elapsed:.2f} s (budget {STOP_BUDGET_S:.0f} s), store flushed: {flushed}",
    )
    return elapsed


def check_restart(
    checks: Checks, image: str, data: str, env: dict[str, str], accepted: list[str]
) -> float | None:
    """A second container on the same volume has every run answered 202 before SIGTERM,
    including those still queued when it came; its time to the first 200."""
    port = free_port()
    container, first_200 = run_mock(image, port, data, env)
    try:
        found: set[str] = set()
        if first_200 is not None:
            _, body = http(
                f"http://127.0.0.1:{port}/__admin/workflows/{WORKFLOW['id']}/runs?limit=1000",
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
            found = {r.get("requestId") for r in json.loads(body).get("runs", [])}
        missing = [rid for rid in accepted if rid not in found]
        checks.record(
            "restart-keeps-runs",
            first_200 is not None and not missing,
            f"a new container on the same volume has {len(accepted) - len(missing)} of the "
            f"{len(accepted)} runs answered 202 (the last {BURST} sent just before SIGTERM)",
        )
    finally:
        podman("stop", "--time", "5", container, check=False)
        remove(container)
    return first_200


def container_start_s(image: str) -> float:
    """Baseline: `podman run --rm IMAGE true` in the same image, the part of a start that is podman's."""
    started = time.monotonic()
    podman("run", "--rm", "--entrypoint", "true", image)
    return time.monotonic() - started
