"""Build the two container images and check them as a CI service and a test would use them.

What runs (``nox -s image``; podman, with .ci/image/containers.conf via ``CONTAINERS_CONF``):

1. the base: a Debian bookworm built here from Debian's packages and cached by its inputs
   (tests/image/debian_base.py), unless ``--base IMAGE`` names another (``python:3.12-slim``);
   with the local base the builds run with ``--pull=never``, so nothing comes from a registry;
2. ``podman build`` of the Containerfile's two targets (pip reaches PyPI through the host's CA
   bundle, mounted): ``mock`` as ``localhost/qualtrics-mock:VERSION`` and ``full`` as
   ``localhost/qualtrics-harness:VERSION``;
3. the checks, each against a container on a free 127.0.0.1 port and a fresh named volume:
   - the ``mock`` image is at most 150 MB (on the local base); it runs ``qharness runs`` and
     answers other commands with one line naming the ``full`` image; ``full`` runs them all;
   - on the ``mock`` image: without an admin token of 16+ characters the container refuses to
     start (exit 2, one line that says how to set one); health answers 200 (and the image's
     HEALTHCHECK passes); a trigger with examples/workflows.toml mounted at /config gets 202, and
     the run shows in the admin API as Succeeded with its field; the OCI labels carry the
     project's version and licence; every process runs as the image's non-root user, and the
     admin token is in no process's argv; with ``QHARNESS_PUBLIC_HOSTS=qualtrics-mock``, Host
     ``qualtrics-mock`` is answered and another Host gets 421; 20 more events answered 202, then
     at once SIGTERM: it stops within 5 s, exit code 0, store flushed; a new container on the same
     volume has every run answered 202, the queued ones included;
   - ``qharness certify --mock`` run from the ``full`` image (in the mock's network namespace)
     passes;
   - examples/ci/compose.yaml under podman-compose: the recipe's setup creates the user and the
     workflow through the admin API, and the app (the ``full`` image) sends to the mock by its
     service name with ``qharness send --allow-mock-host`` (skipped, saying so, without
     podman-compose);
   - the README's podman commands, run as written (tests/image/readme_check.py);
   - the README's Testcontainers script on both images and the pytest fixture, against podman's
     Docker-compatible socket (tests/image/testcontainers_check.py);
4. numbers: build times, image sizes (and what the project's layers add to the base's), time
   from ``podman run`` to the first HTTP 200, time from SIGTERM to exit.

The images stay tagged for ``podman run``. Exit 0 if every check passed, 1 if any failed, 2 if
podman is missing. The last line is ``image checks passed: N passed, M failed`` (or ``failed``).

    python tests/image/image_check.py [--base IMAGE] [--tag REF] [--full-tag REF]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from build import build, image_size_mb
from compose_check import check_compose
from debian_base import debian_base
from harness import ADMIN_TOKEN, CONTAINERS_CONF, SERVICE_NAME, Checks, free_port, podman, version
from readme_check import check_readme_podman
from service_checks import (
    burst,
    check_certify,
    check_labels,
    check_refusals,
    check_restart,
    check_running,
    check_stop,
    container_start_s,
    remove,
    run_mock,
    volume,
)
from testcontainers_check import check_testcontainers

FIRST_200_TARGET_S = 2.0
SIZE_TARGET_MB = 150


def check_targets(checks: Checks, mock_tag: str, full_tag: str, size: float, local: bool) -> None:
    """What each image holds: the mock's size; `runs` in the mock image and a one-line refusal
    of a command it leaves out; that command's help in the full image."""
    if local:
        checks.record(
            "mock-image-size",
            size <= SIZE_TARGET_MB,
            f"{size:.0f} MB (target: at most {SIZE_TARGET_MB} MB on the local Debian base)",
        )
    quiet = "--health-interval=disable"  # no health timers for these one-shot commands
    runs = podman("run", "--rm", quiet, mock_tag, "qharness", "runs", "--help", check=False)
    certify = podman(
        "run", "--rm", quiet, mock_tag, "qharness", "certify", "--examples", "5", check=False
    )
    # podman 4.3 logs its own lines (`time=... level=error msg="unable to get systemd ..."`)
    # about health timers even with them disabled; the container's stderr is the rest.
    said = [line for line in certify.stderr.strip().splitlines() if not line.startswith("time=")]
    checks.record(
        "mock-image-commands",
        runs.returncode == 0
        and certify.returncode == 2
        and len(said) == 1
        and "`full` image" in said[0],
        f"runs --help: exit {runs.returncode}; certify: exit {certify.returncode}, {said[-1:]!r}",
    )
    full = podman("run", "--rm", quiet, full_tag, "qharness", "certify", "--help", check=False)
    checks.record(
        "full-image-commands", full.returncode == 0, f"certify --help: exit {full.returncode}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="base image (default: a Debian base built here)")
    parser.add_argument(
        "--tag", default=f"localhost/qualtrics-mock:{version()}", help="the mock image"
    )
    parser.add_argument("--full-tag", default=f"localhost/qualtrics-harness:{version()}")
    args = parser.parse_args(argv)
    if shutil.which("podman") is None:
        print(
            "podman not found: apt-get install -y podman runc mmdebstrap podman-compose",
            file=sys.stderr,
        )
        return 2
    os.environ.setdefault("CONTAINERS_CONF", str(CONTAINERS_CONF))
    os.environ["QHARNESS_MOCK_ADMIN_TOKEN"] = ADMIN_TOKEN  # passed with `--env NAME`, not in argv
    local_base = args.base is None
    base = debian_base() if local_base else args.base
    build_s = build(base, args.tag, local_base, "mock")
    full_build_s = build(base, args.full_tag, local_base, "full")
    size, full_size, base_size = (image_size_mb(t) for t in (args.tag, args.full_tag, base))

    checks = Checks()
    check_targets(checks, args.tag, args.full_tag, size, local_base)
    check_labels(checks, args.tag)
    check_refusals(checks, args.tag)
    env = {"QHARNESS_MOCK_ADMIN_TOKEN": ADMIN_TOKEN, "QHARNESS_PUBLIC_HOSTS": SERVICE_NAME}
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
                first = check_running(checks, container, url, True)
                accepted = [first] if first else []
                check_certify(checks, args.full_tag, container)
                accepted += burst(url)
                stop_s = check_stop(checks, container)
        finally:
            remove(container)
        if accepted:
            starts.append(check_restart(checks, args.tag, data, env, accepted))
    check_compose(checks, args.tag, args.full_tag)
    check_readme_podman(checks)
    check_testcontainers(checks, args.tag, args.full_tag)
    baseline = container_start_s(args.tag)

    print(f"build: mock {build_s:.1f} s, full {full_build_s:.1f} s")
    print(
        f"image {args.tag} (target mock): {size:.0f} MB on {base} ({base_size:.0f} MB): the "
        f"project's layers add {size - base_size:.0f} MB (target: at most {SIZE_TARGET_MB} MB)"
    )
    print(
        f"image {args.full_tag} (target full): {full_size:.0f} MB: the project's layers add "
        f"{full_size - base_size:.0f} MB"
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
