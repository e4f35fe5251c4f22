"""Build the mock's container image and check it as a CI service would use it, over real HTTP.

What runs (``nox -s image``; podman, with .ci/image/containers.conf via ``CONTAINERS_CONF``):

1. the base: a Debian bookworm built here from Debian's packages and cached by its inputs
   (tests/image/debian_base.py), unless ``--base IMAGE`` names another (``python:3.12-slim``);
   with the local base the build runs with ``--pull=never``, so nothing comes from a registry;
2. ``podman build`` of the Containerfile (pip reaches PyPI through the host's CA bundle, mounted);
3. the checks, each against a container on a free 127.0.0.1 port and a fresh named volume:
   - without an admin token of 16+ characters the container refuses to start (exit 2, one line
     that says how to set one);
   - health answers 200 (and the image's HEALTHCHECK passes);
   - a trigger with examples/workflows.toml mounted at /config gets 202, and the run shows in the
     admin API as Succeeded with its field;
   - the OCI labels carry the project's version and licence;
   - every process runs as the image's non-root user, and the admin token is in no process's argv;
   - ``qharness certify --mock`` run from the image (in the mock's network namespace) passes;
   - with ``QHARNESS_PUBLIC_HOSTS=qualtrics-mock``, Host ``qualtrics-mock`` is answered and another
     Host gets 421 (skipped, saying so, while the mock has no ``--public-host``);
   - 20 more events answered 202, then at once SIGTERM: it stops within 5 s, exit code 0,
     store flushed;
   - a new container on the same volume has every run answered 202, the queued ones included;
   - examples/ci/compose.yaml under podman-compose: an app container reaches the mock by its
     service name and gets 202 (skipped, saying so, without podman-compose).
4. numbers: build time, image size (and what the project's layers add to the base's), time from
   ``podman run`` to the first HTTP 200, time from SIGTERM to exit.

The image stays tagged (``localhost/qualtrics-mock:VERSION``) for ``podman run``.
Exit 0 if every check passed, 1 if any failed, 2 if podman is missing. The last line is
``image checks passed: N passed, M failed`` (or ``failed``).

    python tests/image/image_check.py [--base IMAGE] [--tag REF]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from debian_base import debian_base

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "examples" / "workflows.toml"
CONTAINERS_CONF = ROOT / ".ci" / "image" / "containers.conf"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
ADMIN_TOKEN = "image-check-admin-token-0123456789"  # a throwaway container's, 34 characters
SERVICE_NAME = "qualtrics-mock"
STOP_BUDGET_S = 5.0
FIRST_200_TARGET_S = 2.0
SIZE_TARGET_MB = 150
BURST = 20
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


def _git(*args: str) -> str:
    found = subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
    )
    return found.stdout.strip() if found.returncode == 0 else ""


def git_labels() -> dict[str, str]:
    """SOURCE and REVISION for the OCI labels, where git knows them. The source is a public
    https URL only: a clone's origin may be a local path, or carry credentials in its userinfo."""
    labels = {"REVISION": _git("rev-parse", "HEAD")}
    origin = urlsplit(_git("remote", "get-url", "origin"))
    if origin.scheme == "https" and origin.hostname:
        port = f":{origin.port}" if origin.port else ""
        labels["SOURCE"] = urlunsplit(("https", origin.hostname + port, origin.path, "", ""))
    return {k: v for k, v in labels.items() if v}


def build(base: str, tag: str, local_base: bool) -> float:
    args = [
        "build",
        "--format",
        "docker",  # the OCI format has no HEALTHCHECK
        "--build-arg",
        f"BASE={base}",
        "--build-arg",
        f"VERSION={version()}",
        "--tag",
        tag,
        "--file",
        str(ROOT / "Containerfile"),
    ]
    args += [f"--build-arg={label}={value}" for label, value in git_labels().items()]
    if local_base:
        args += ["--pull=never"]
    if HOST_CA_BUNDLE.exists():
        # A TLS-intercepting proxy's CA is in the host's bundle; pip in the build needs it too.
        args += [
            "--volume",
            f"{HOST_CA_BUNDLE}:/run/host-ca.crt:ro",
            "--build-arg",
            "PIP_CERT=/run/host-ca.crt",
        ]
    started = time.monotonic()
    result = subprocess.run(
        ["podman", *args, str(ROOT)], check=False, stdin=subprocess.DEVNULL, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"podman build failed (exit {result.returncode}); see its output above")
    return time.monotonic() - started


def image_size_mb(reference: str) -> float:
    return int(podman("image", "inspect", "--format", "{{.Size}}", reference).stdout) / 1e6


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


def supports_public_host(image: str) -> bool:
    helptext = podman("run", "--rm", image, "qharness", "mock", "serve", "--help", check=False)
    return "--public-host" in helptext.stdout


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
            "--examples", "100", "--junit", "junit.xml",
            check=False, timeout=300,
        )  # fmt: skip
        junit = Path(work) / "junit.xml"
        cases = junit.read_text(encoding="utf-8").count("<testcase") if junit.exists() else 0
    last = (result.stdout.strip().splitlines() or [""])[-1]
    checks.record(
        "certify-in-container",
        result.returncode == 0 and last.startswith("certification passed") and cases == 12,
        f"exit {result.returncode}, {cases} JUnit testcases: {last!r}"
        + (f" {result.stderr.strip()[-300:]!r}" if result.returncode else ""),
    )


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="base image (default: a Debian base built here)")
    parser.add_argument("--tag", default=f"localhost/qualtrics-mock:{version()}")
    args = parser.parse_args(argv)
    if shutil.which("podman") is None:
        print(
            "podman not found: apt-get install -y podman runc uidmap slirp4netns", file=sys.stderr
        )
        return 2
    os.environ.setdefault("CONTAINERS_CONF", str(CONTAINERS_CONF))
    os.environ["QHARNESS_MOCK_ADMIN_TOKEN"] = ADMIN_TOKEN  # passed with `--env NAME`, not in argv
    local_base = args.base is None
    base = debian_base() if local_base else args.base
    build_s = build(base, args.tag, local_base)
    size, base_size = image_size_mb(args.tag), image_size_mb(base)

    checks = Checks()
    check_labels(checks, args.tag)
    check_refusals(checks, args.tag)
    public_host = supports_public_host(args.tag)
    env = {"QHARNESS_MOCK_ADMIN_TOKEN": ADMIN_TOKEN}
    if public_host:
        env["QHARNESS_PUBLIC_HOSTS"] = SERVICE_NAME
    stop_s = float("nan")
    accepted: list[str] = []
    with volume() as data:
        port = free_port()
        container, first_200 = run_mock(args.tag, port, data, env)
        starts = [first_200]
        try:
            if first_200 is None:
                tail = podman("logs", container, check=False).stderr.strip()[-300:]
                checks.record("starts", False, f"no 200 within 30 s; its log ends: {tail!r}")
            else:
                url = f"http://127.0.0.1:{port}"
                first = check_running(checks, container, url, public_host)
                accepted = [first] if first else []
                check_certify(checks, args.tag, container)
                accepted += burst(url)
                stop_s = check_stop(checks, container)
        finally:
            remove(container)
        if accepted:
            starts.append(check_restart(checks, args.tag, data, env, accepted))
    check_compose(checks, args.tag, public_host)
    baseline = container_start_s(args.tag)

    print(f"build: {build_s:.1f} s")
    print(
        f"image {args.tag}: {size:.0f} MB on {base} ({base_size:.0f} MB): the project's layers "
        f"add {size - base_size:.0f} MB (target on python:3.12-slim: < {SIZE_TARGET_MB} MB)"
    )
    measured = sorted(s for s in starts if s is not None)
    if measured:
        worst = measured[-1]
        print(
            f"first HTTP 200 after `podman run`: {', '.join(f'{s:.2f} s' for s in measured)} "
            f"({'within' if worst < FIRST_200_TARGET_S else 'OVER'} the {FIRST_200_TARGET_S:.0f} s "
            f"target; podman alone starts `true` in this image in {baseline:.2f} s)"
        )
    print(f"SIGTERM to exit: {stop_s:.2f} s")
    verdict = "passed" if checks.failed == 0 else "failed"
    print(f"image checks {verdict}: {checks.passed} passed, {checks.failed} failed")
    return 0 if checks.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
