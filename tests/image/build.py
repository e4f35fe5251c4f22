"""Building the image: ``podman build`` of the Containerfile, with the labels git knows and the
host's CA bundle for pip; the size of what was built."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from harness import ROOT, podman, version

HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


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


def _image_id(reference: str) -> str:
    return podman("image", "inspect", "--format", "{{.Id}}", reference, check=False).stdout.strip()


def build(base: str, tag: str, local_base: bool, target: str) -> float:
    """Build the Containerfile's ``target`` as ``tag``; the image it replaces is removed. No layer cache is kept (``--layers=false``):
    every commit changes the wheel, so CI could not reuse one, and cached stages would pile up on
    a machine that builds every run."""
    previous = _image_id(tag)
    args = [
        "build",
        "--layers=false",
        "--format",
        "docker",  # the OCI format has no HEALTHCHECK
        "--target",
        target,
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
            "PIP_CA_BUNDLE=/run/host-ca.crt",
        ]
    started = time.monotonic()
    result = subprocess.run(
        ["podman", *args, str(ROOT)], check=False, stdin=subprocess.DEVNULL, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"podman build failed (exit {result.returncode}); see its output above")
    elapsed = time.monotonic() - started
    if previous and previous != _image_id(tag):
        podman("rmi", previous, check=False)  # kept if a container still uses it
    return elapsed


def image_size_mb(reference: str) -> float:
    return int(podman("image", "inspect", "--format", "{{.Size}}", reference).stdout) / 1e6
