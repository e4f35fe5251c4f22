"""The container's entrypoint turns its environment into `qharness mock serve` flags.

The script runs here under ``sh`` with a stand-in ``qharness`` that records its argv, so each rule
is checked without a container: the refusal without a strong admin token, the default flags, the
Host names from ``QHARNESS_PUBLIC_HOSTS``, options appended, commands run as given, and the token
never on a command line. ``nox -s image`` checks the same script inside the real image.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parent.parent
ENTRYPOINT = REPO / ".ci" / "image" / "entrypoint.sh"
CONTAINERFILE = (REPO / "Containerfile").read_text(encoding="utf-8")
TOKEN = "entrypoint-test-token-0123456789"
SERVE_DEFAULTS = [
    "--host",
    "0.0.0.0",  # noqa: S104 - the argv the container is meant to get
    "--port",
    "8080",
    "--db",
    "/data/runs.sqlite3",
]
WORKFLOWS = (
    ["--workflows", "/config/workflows.toml"] if Path("/config/workflows.toml").is_file() else []
)


@pytest.fixture(scope="module")
def stub_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory whose `qharness` prints its argv, one word a line, instead of serving."""
    directory = tmp_path_factory.mktemp("bin")
    stub = directory / "qharness"
    stub.write_text(
        '#!/bin/sh\nprintf "%s\\n" "$@"\n',
        encoding="utf-8",
    )
    stub.chmod(0o755)
    return directory


def entrypoint(
    stub_bin: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QHARNESS_")}
    environment["PATH"] = f"{stub_bin}{os.pathsep}{environment['PATH']}"
    environment.update(env or {})
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize("token", [None, "", "x" * 15])
def test_refuses_without_a_strong_admin_token(stub_bin: Path, token: str | None) -> None:
    """No token, or one under 16 characters: exit 2 with one line saying how to set it."""
    env = {} if token is None else {"QHARNESS_MOCK_ADMIN_TOKEN": token}
    result = entrypoint(stub_bin, env=env)
    assert result.returncode == 2
    assert result.stdout == ""  # the mock never started
    [line] = result.stderr.splitlines()
    assert line.endswith("run the container with -e QHARNESS_MOCK_ADMIN_TOKEN")
    assert "16 characters" in line


def test_serves_on_all_interfaces_with_history_on_the_volume(stub_bin: Path) -> None:
    """With a token: serve on 0.0.0.0:8080, history in /data; the token stays out of argv."""
    result = entrypoint(stub_bin, env={"QHARNESS_MOCK_ADMIN_TOKEN": TOKEN})
    assert result.returncode == 0, result.stderr
    argv = result.stdout.splitlines()
    assert argv == ["mock", "serve", *WORKFLOWS, *SERVE_DEFAULTS]
    assert TOKEN not in result.stdout


def test_options_are_appended_so_they_win(stub_bin: Path) -> None:
    """`podman run IMAGE --run-delay 0 --port 9000`: the user's options come after the defaults."""
    result = entrypoint(
        stub_bin, "--run-delay", "0", "--port", "9000", env={"QHARNESS_MOCK_ADMIN_TOKEN": TOKEN}
    )
    argv = result.stdout.splitlines()
    assert argv[-4:] == ["--run-delay", "0", "--port", "9000"]


def test_a_command_runs_as_given(stub_bin: Path) -> None:
    """`podman run IMAGE qharness certify ...` runs certification, no admin token needed."""
    result = entrypoint(stub_bin, "qharness", "certify", "--junit", "/data/junit.xml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["certify", "--junit", "/data/junit.xml"]


hostnames = st.from_regex(
    r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9]{1,10}){0,2}", fullmatch=True
)


@settings(max_examples=25, deadline=None)
@given(st.lists(hostnames, min_size=1, max_size=4), st.sampled_from([",", ", ", " ", " ,\t"]))
def test_public_hosts_become_public_host_flags(
    stub_bin: Path, names: list[str], separator: str
) -> None:
    """Every name in QHARNESS_PUBLIC_HOSTS (comma- or space-separated) is one --public-host."""
    env = {"QHARNESS_MOCK_ADMIN_TOKEN": TOKEN, "QHARNESS_PUBLIC_HOSTS": separator.join(names)}
    argv = entrypoint(stub_bin, env=env).stdout.splitlines()
    flags = [argv[i + 1] for i, word in enumerate(argv) if word == "--public-host"]
    assert flags == names


@pytest.mark.parametrize(("value", "flags"), [("1", ["--trust-proxy", "1"]), ("", [])])
def test_trust_proxy_becomes_the_flag(stub_bin: Path, value: str, flags: list[str]) -> None:
    """QHARNESS_TRUST_PROXY=N (behind an ingress) is `--trust-proxy N`; unset or empty, nothing."""
    env = {"QHARNESS_MOCK_ADMIN_TOKEN": TOKEN, "QHARNESS_TRUST_PROXY": value}
    argv = entrypoint(stub_bin, env=env).stdout.splitlines()
    at = [i for i, word in enumerate(argv) if word == "--trust-proxy"]
    assert [w for i in at for w in argv[i : i + 2]] == flags


def test_containerfile_declares_the_service_contract() -> None:
    """The image the entrypoint runs in: slim base by default, two targets (`mock`, then `full`,
    the default) each ending non-root, port, volume, health."""
    assert re.search(r"^ARG BASE=python:3\.12-slim$", CONTAINERFILE, re.MULTILINE)
    targets = re.findall(r"^FROM \S+ AS (mock|full)$", CONTAINERFILE, re.MULTILINE)
    assert targets == ["mock", "full"], "full is last: the default target"
    assert len(re.findall(r"^USER ", CONTAINERFILE, re.MULTILINE)) == 2
    stages = CONTAINERFILE.split("\nFROM ")
    for target in [t for t in stages if t.startswith(("service AS mock", "service AS full"))]:
        [user] = re.findall(r"^USER (\S+)$", target, re.MULTILINE)
        assert not user.startswith(("0", "root"))
    assert "--no-deps /wheels/*.whl" in CONTAINERFILE
    assert "-r /tmp/mock-requirements.txt" in CONTAINERFILE
    assert re.search(r"^EXPOSE 8080$", CONTAINERFILE, re.MULTILINE)
    assert re.search(r'^VOLUME \["/data"\]$', CONTAINERFILE, re.MULTILINE)
    assert "http://127.0.0.1:8080/__admin/health" in CONTAINERFILE
    assert re.search(
        r'^ENTRYPOINT \["dumb-init", "--", "qharness-entrypoint"\]$', CONTAINERFILE, re.MULTILINE
    )
    assert "COPY .ci/image/entrypoint.sh /usr/local/bin/qharness-entrypoint" in CONTAINERFILE
    for label in ("source", "version", "licenses"):
        assert f"org.opencontainers.image.{label}=" in CONTAINERFILE


def test_public_hosts_are_not_globbed(stub_bin: Path) -> None:
    """A `*` in QHARNESS_PUBLIC_HOSTS stays a `*` (the mock rejects it), never a file list."""
    env = {"QHARNESS_MOCK_ADMIN_TOKEN": TOKEN, "QHARNESS_PUBLIC_HOSTS": "*"}
    argv = entrypoint(stub_bin, env=env).stdout.splitlines()
    assert argv[-2:] == ["--public-host", "*"]
