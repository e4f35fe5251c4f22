"""A Debian base image built from Debian's own packages, cached on this machine by its inputs.

The Containerfile's default base (``python:3.12-slim``) comes from a container registry. Where none
is reachable, or where tests must fetch nothing from one (``nox -s image``), the base is made here:
``mmdebstrap --variant=minbase`` of Debian bookworm with python3 and its venv module, imported with
``podman import``. Building it takes ~30 s, so the root filesystem tarball is kept under
``~/.cache/qharness-image/`` (``$QHARNESS_IMAGE_CACHE``), named by a hash of everything that goes
into it; a second run on the same machine only imports it (or finds the image already there).

    python tests/image/debian_base.py        # prints the image reference
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["MMDEBSTRAP_ARGS", "cache_dir", "debian_base"]

SUITE = "bookworm"
# A machine whose apt uses another mirror sets $QHARNESS_DEBIAN_MIRROR (part of the cache key).
MIRROR = os.environ.get("QHARNESS_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# Everything that decides the base's content: change any of it and the cache key changes.
MMDEBSTRAP_ARGS = (
    "--variant=minbase",
    # ca-certificates: the OS trust store that `send` verifies Qualtrics' TLS against.
    "--include=python3,python3-venv,ca-certificates",
    # Merged /usr set up by mmdebstrap's hook (usr-is-merged), not by the usrmerge package, which
    # brings a full Perl (46 MB) that nothing here runs: the `mock` image must stay under 150 MB.
    "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
    '--aptopt=APT::Install-Recommends "false"',
    # Documentation, manual pages and translations are of no use in a service image.
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/info/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--dpkgopt=path-include=/usr/share/locale/locale.alias",
    "--dpkgopt=path-exclude=/usr/share/doc-base/*",
    SUITE,
)


def cache_dir() -> Path:
    """Where base tarballs are kept between runs (``$QHARNESS_IMAGE_CACHE`` overrides)."""
    configured = os.environ.get("QHARNESS_IMAGE_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "qharness-image"


def _key() -> str:
    recipe = "\n".join((*MMDEBSTRAP_ARGS, MIRROR, "import: CMD /bin/bash"))
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def _image_exists(reference: str) -> bool:
    probe = subprocess.run(
        ["podman", "image", "exists", reference], check=False, capture_output=True
    )
    return probe.returncode == 0


def debian_base(log: bool = True) -> str:
    """The local base image's reference, building and caching whatever is missing."""
    key = _key()
    reference = f"localhost/qharness-debian-base:{key}"
    if _image_exists(reference):
        if log:
            print(f"base: {reference} (already in podman's store)", flush=True)
        return reference
    tarball = cache_dir() / f"debian-{SUITE}-{key}.tar"
    if not tarball.exists():
        if shutil.which("mmdebstrap") is None:
            raise SystemExit("mmdebstrap not found: apt-get install -y mmdebstrap")
        tarball.parent.mkdir(parents=True, exist_ok=True)
        partial = tarball.with_suffix(".partial.tar")
        if log:
            print(f"base: mmdebstrap {' '.join(MMDEBSTRAP_ARGS)} (cached as {tarball})", flush=True)
        subprocess.run(
            ["mmdebstrap", "--quiet", *MMDEBSTRAP_ARGS, str(partial), MIRROR],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        partial.replace(tarball)  # only a complete tarball ever carries the cache's name
    elif log:
        print(f"base: importing the cached {tarball}", flush=True)
    subprocess.run(
        ["podman", "import", "--quiet", "--change", "CMD /bin/bash", str(tarball), reference],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return reference


if __name__ == "__main__":
    print(debian_base(log=False))
    sys.exit(0)
