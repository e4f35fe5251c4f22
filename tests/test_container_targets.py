"""The `mock` image's dependency list is enough for `qharness mock serve` and `qharness runs`.

The Containerfile's ``mock`` target installs the wheel with ``--no-deps`` and then only
``.ci/image/mock-requirements.txt``. Here the same installation is played without a container:
a Python process in which the left-out distributions cannot be imported (a meta-path finder
refuses them) serves the mock, answers a trigger, the admin API and the UI, and ``qharness runs``
reads it; a command that needs the rest says so in one line (exit 2). ``nox -s image`` builds the
real image and checks it the same way.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest
from support.paths import REPO
from support.served import MOCK_TOKEN, MOCK_TOKEN_ID, mock_file

REQUIREMENTS = REPO / ".ci" / "image" / "mock-requirements.txt"
#: Import names of the distributions the `mock` image leaves out.
LEFT_OUT = {
    "hypothesis": "hypothesis",
    "jsonschema-rs": "jsonschema_rs",
    "filelock": "filelock",
    "truststore": "truststore",
}

BLOCKER = f"""
import sys
from importlib.abc import MetaPathFinder

class LeftOut(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {sorted(LEFT_OUT.values())!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, LeftOut())
from connector.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _project_requirements() -> list[str]:
    with (REPO / "pyproject.toml").open("rb") as handle:
        return list(tomllib.load(handle)["project"]["dependencies"])


def _mock_requirements() -> list[str]:
    lines = REQUIREMENTS.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()


def test_the_mock_list_is_the_project_requirements_less_certification() -> None:
    """Every line is one of pyproject's dependencies as written; the ones left out are exactly
    certification's and send's (Hypothesis, jsonschema-rs, filelock)."""
    project = _project_requirements()
    mock = _mock_requirements()
    assert set(mock) <= set(project), set(mock) - set(project)
    assert {_name(r) for r in project} - {_name(r) for r in mock} == set(LEFT_OUT)


def _left_out_qharness(*args: str) -> list[str]:
    return [sys.executable, "-c", BLOCKER, *args]


def test_mock_serve_and_runs_work_without_the_left_out_distributions(tmp_path: Path) -> None:
    """Serve, trigger (202 and a Succeeded run), admin API, UI, `runs`: all without them."""
    workflows = mock_file(tmp_path / "w.toml")
    process = subprocess.Popen(
        _left_out_qharness("mock", "serve", "--port", "0", "--run-delay", "0", "--workflows", str(workflows)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match is not None, line + process.stderr.read() if process.stderr else line
        url = match.group(0)
        accepted = httpx.post(
            f"{url}/inbound-event/v1/events/json/triggers?urlTokenId={MOCK_TOKEN_ID}",
            json={"identityMap": {"Email": [{"id": "a@example.com"}]}},
            headers={"X-API-TOKEN": MOCK_TOKEN},
        )
        assert accepted.status_code == 202, accepted.text
        runs = httpx.get(f"{url}/__admin/workflows/WF/runs", params={"wait_for": 1, "timeout": 10})
        assert [r["status"] for r in runs.json()["runs"]] == ["Succeeded"]
        assert httpx.get(f"{url}/").status_code == 200
        listed = subprocess.run(
            _left_out_qharness("runs", "--mock", url, "--json"),
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        assert '"status": "Succeeded"' in listed.stdout
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert process.returncode == 0


@pytest.mark.parametrize("command", [["certify", "--examples", "5"], ["sample-profiles"]])
def test_a_command_that_needs_more_says_so_in_one_line(command: list[str]) -> None:
    """Exit 2, one line naming the missing module and the `full` image; no traceback."""
    done = subprocess.run(
        _left_out_qharness(*command), capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stdout + done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: this installation lacks the Python module ")
    assert "use the `full` image" in line
