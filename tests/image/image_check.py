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
import os
import shutil
import sys

from build import build, image_size_mb
from compose_check import check_compose
from debian_base import debian_base
from harness import ADMIN_TOKEN, CONTAINERS_CONF, SERVICE_NAME, Checks, free_port, podman, version
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
    supports_public_host,
    volume,
)

FIRST_200_TARGET_S = 2.0
SIZE_TARGET_MB = 150


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="base image (default: a Debian base built here)")
    parser.add_argument("--tag", default=f"localhost/qualtrics-mock:{version()}")
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
