"""The CI recipes in examples/ci/ do what they say: parsed, checked, and their commands run here.

Each recipe is read with a YAML parser, its commands are checked (the harness installed from a
wheel built by an earlier job from a checkout of qualtrics-harness, certification with
``--junit``, the report uploaded or declared as a JUnit artifact, the mock as a service wired to
its app), and then the commands themselves run in a temporary checkout with bash. What a runner
here cannot do is replaced, and only that:

- ``python -m pip wheel`` builds the wheel for real from this repository, without build isolation
  (tests reach no index); ``python -m pip install WHEEL`` checks that the wheel the earlier job
  built is there and is qualtrics-harness, and installs nothing (this venv has the project);
- a service's address is replaced by a mock started here on 127.0.0.1; a service name
  (``qualtrics-mock``) becomes ``localhost`` in the URL and in ``--allow-mock-host``, since no
  name resolves to the mock here (tests/cli/test_allow_mock_host.py resolves one, and
  ``nox -s image`` runs compose with real service names);
- certification runs 100 generated profiles instead of 1000 to keep the suite fast (every check
  and every report still runs).
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from support.paths import EXAMPLE, REPO, WORKFLOWS
from support.paths import EXAMPLES as EXAMPLES_DIR
from support.shell import bash

from mock_qualtrics import LiveMock, load_toml

CI = EXAMPLES_DIR / "ci"
ADMIN_TOKEN = "ci-examples-admin-token-0123"
CHECK_COUNT = 12
EXAMPLES = 100


def _load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((CI / name).read_text(encoding="utf-8"))
    assert isinstance(document, dict), name
    return document


def _junit_path(command: str) -> str:
    words = shlex.split(command)
    assert words[:2] == ["qharness", "certify"], command
    assert "--junit" in words, f"certification without --junit: {command}"
    return words[words.index("--junit") + 1]


#: ``python -m pip`` in a recipe, as a runner here can run it (see the module docstring).
PIP_SHIM = r"""
IS_HARNESS_WHEEL='import sys, zipfile; sys.exit("connector/cli/__init__.py" not in zipfile.ZipFile(sys.argv[1]).namelist())'
python() {
  if [ "${1:-}" = "-m" ] && [ "${2:-}" = "pip" ] && [ "${3:-}" = "wheel" ]; then
    shift 3
    command python -m pip wheel --no-build-isolation --no-index -q "$@"
  elif [ "${1:-}" = "-m" ] && [ "${2:-}" = "pip" ] && [ "${3:-}" = "install" ]; then
    shift 3
    for wheel in "$@"; do
      case "$wheel" in
        -*) ;;
        *) [ -f "$wheel" ] && command python -c "$IS_HARNESS_WHEEL" "$wheel" \
             || { echo "pip install: $wheel is not a qualtrics-harness wheel here" >&2; return 1; }
           echo "pip install: $wheel (a qualtrics-harness wheel; this venv has the project)" ;;
      esac
    done
  else
    command python "$@"
  fi
}
"""


def _run(
    commands: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a recipe's shell lines as its CI would (bash, stop at the first failure)."""
    lines = [
        f"{c} --examples {EXAMPLES}" if c.startswith("qharness certify") else c for c in commands
    ]
    script = "set -euo pipefail\n" + PIP_SHIM + "\n".join(lines)
    result = bash(script, cwd, env={"QHARNESS_SOURCE": str(REPO), **(env or {})})
    assert result.returncode == 0, (
        f"{script}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result


def _assert_junit(path: Path) -> None:
    suite = ET.parse(path).getroot()  # noqa: S314 - our own report
    cases = suite.findall(".//testcase")
    failures = suite.findall(".//failure") + suite.findall(".//error")
    assert len(cases) == CHECK_COUNT, [c.get("name") for c in cases]
    assert failures == []


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A team's repository: their activation file at the root (here, the bundled example)."""
    (tmp_path / "activation.toml").write_bytes(EXAMPLE.read_bytes())
    return tmp_path


@pytest.fixture
def service_mock() -> Iterator[LiveMock]:
    """The mock as a CI service would run it (an admin token, examples/workflows.toml loaded)."""
    config = load_toml(WORKFLOWS)
    config["ADMIN_TOKEN"] = ADMIN_TOKEN
    with LiveMock(config) as mock:
        yield mock


def _lines(step_or_script: Any) -> list[str]:
    if isinstance(step_or_script, list):
        return [str(line) for line in step_or_script]
    return [line for line in str(step_or_script).splitlines() if line.strip()]


# --- GitHub Actions -----------------------------------------------------------------------


def _gha_runs(job: dict[str, Any]) -> list[str]:
    return [line for step in job["steps"] if "run" in step for line in _lines(step["run"])]


def _gha_upload(job: dict[str, Any]) -> dict[str, Any]:
    [upload] = [
        s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")
    ]
    assert "cancelled()" in upload["if"] or "always()" in upload["if"], (
        "a failed gate must still upload"
    )
    return dict(upload["with"])


def _gha_wheel(workflow: dict[str, Any], checkout: Path) -> None:
    """The wheel job: a checkout of qualtrics-harness (here, this repository) built into dist/."""
    job = workflow["jobs"]["harness-wheel"]
    [harness] = [s for s in job["steps"] if s.get("with", {}).get("path") == "qualtrics-harness"]
    assert "github.repository" in harness["with"]["repository"], "a default source that exists"
    (checkout / "qualtrics-harness").symlink_to(REPO, target_is_directory=True)
    [upload] = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload")]
    _run(_gha_runs(job), checkout)
    assert list((checkout / upload["with"]["path"]).glob("qualtrics_harness-*.whl"))


def _gha_installs_the_wheel(workflow: dict[str, Any], name: str) -> None:
    job = workflow["jobs"][name]
    assert job["needs"] == "harness-wheel"
    [download] = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/download")]
    assert download["with"]["name"] == "qualtrics-harness-wheel"
    installs = [c for c in _gha_runs(job) if "pip install" in c]
    assert installs == [f"python -m pip install {download['with']['path']}qualtrics_harness-*.whl"]


def test_github_actions_gate_runs_certify_and_uploads_the_junit_report(checkout: Path) -> None:
    """The wheel job builds the harness from a checkout; the certify job installs that wheel,
    runs `qharness certify --junit` and uploads the folder the report is in."""
    workflow = _load("github-actions.yml")
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers
    _gha_wheel(workflow, checkout)
    _gha_installs_the_wheel(workflow, "certify")
    job = workflow["jobs"]["certify"]
    [certify] = [c for c in _gha_runs(job) if c.startswith("qharness certify")]
    junit = _junit_path(certify)
    assert junit.startswith(_gha_upload(job)["path"].rstrip("/") + "/")
    _run(_gha_runs(job), checkout)
    _assert_junit(checkout / junit)
    assert (checkout / "reports" / "certification.html").read_text(encoding="utf-8").strip()


def test_github_actions_service_job_certifies_against_the_mock_container(
    checkout: Path, service_mock: LiveMock
) -> None:
    """The service job's mock publishes 8080 with the admin token; its commands pass against it."""
    workflow = _load("github-actions.yml")
    job = workflow["jobs"]["certify-against-mock-service"]
    service = job["services"]["qualtrics-mock"]
    assert "8080:8080" in service["ports"]
    assert "secrets.QHARNESS_MOCK_ADMIN_TOKEN" in service["env"]["QHARNESS_MOCK_ADMIN_TOKEN"]
    # The steps need the token too: certification creates its user and workflows on the mock.
    assert "secrets.QHARNESS_MOCK_ADMIN_TOKEN" in job["env"]["QHARNESS_MOCK_ADMIN_TOKEN"]
    _gha_wheel(workflow, checkout)
    _gha_installs_the_wheel(workflow, "certify-against-mock-service")
    commands = [c.replace("http://localhost:8080", service_mock.url) for c in _gha_runs(job)]
    assert any("--mock " + service_mock.url in c for c in commands)
    junit = _junit_path(next(c for c in commands if c.startswith("qharness certify")))
    _run(commands, checkout, {"QHARNESS_MOCK_ADMIN_TOKEN": ADMIN_TOKEN})
    _assert_junit(checkout / junit)
    history = json.loads((checkout / "reports" / "mock-runs.json").read_text(encoding="utf-8"))
    assert history["runs"], "the certification's runs are in the mock's history"


# --- GitLab CI ----------------------------------------------------------------------------


def _gitlab_wheel(recipe: dict[str, Any], checkout: Path) -> None:
    job = recipe["harness-wheel"]
    assert job["artifacts"]["paths"] == ["dist/"]
    _run(_lines(job["script"]), checkout)
    assert list((checkout / "dist").glob("qualtrics_harness-*.whl"))


def _gitlab_installs_the_wheel(job: dict[str, Any]) -> None:
    assert job["needs"] == ["harness-wheel"]
    assert _lines(job["before_script"]) == ["python -m pip install dist/qualtrics_harness-*.whl"]


def test_gitlab_gate_declares_the_junit_artifact_and_passes(checkout: Path) -> None:
    """The certify job writes JUnit where `artifacts:reports:junit` reads it, even on failure."""
    recipe = _load("gitlab-ci.yml")
    job = recipe["certify"]
    _gitlab_installs_the_wheel(job)
    commands = _lines(job["before_script"]) + _lines(job["script"])
    [certify] = [c for c in commands if c.startswith("qharness certify")]
    junit = _junit_path(certify)
    assert job["artifacts"]["reports"]["junit"] == junit
    assert job["artifacts"]["when"] == "always"
    _gitlab_wheel(recipe, checkout)
    _run(commands, checkout)
    _assert_junit(checkout / junit)


def test_gitlab_integration_tests_create_the_workflow_and_send_to_the_service(
    checkout: Path, service_mock: LiveMock
) -> None:
    """The service's alias is the Host it allows and the URL the job uses; the job creates the
    user and a workflow through the admin API, its sender's test line delivers every profile
    to that workflow (with --allow-mock-host), and the runs are in the report."""
    recipe = _load("gitlab-ci.yml")
    job = recipe["integration-tests"]
    [service] = job["services"]
    alias = service["alias"]
    assert alias in re.split(r"[,\s]+", service["variables"]["QHARNESS_PUBLIC_HOSTS"])
    mock_url = job["variables"]["QUALTRICS_MOCK_URL"]
    assert urlsplit(mock_url).hostname == alias
    _gitlab_installs_the_wheel(job)
    commands = [
        c.replace(f"--allow-mock-host {alias}", "--allow-mock-host localhost")
        for c in _lines(job["before_script"]) + _lines(job["script"])
    ]
    assert any(c.startswith("qharness send ") and "--allow-mock-host" in c for c in commands)
    env = {
        "QUALTRICS_MOCK_URL": service_mock.url.replace("127.0.0.1", "localhost"),
        "QHARNESS_MOCK_ADMIN_TOKEN": ADMIN_TOKEN,
        "QUALTRICS_API_TOKEN": job["variables"]["QUALTRICS_API_TOKEN"],
    }
    _gitlab_wheel(recipe, checkout)
    _run(commands, checkout, env)
    sent = json.loads((checkout / "reports" / "send.json").read_text(encoding="utf-8"))
    runs = json.loads((checkout / "reports" / "mock-runs.json").read_text(encoding="utf-8"))["runs"]
    assert sent["identities_activated"] > 0
    assert len(runs) == sent["identities_activated"]


# --- compose ------------------------------------------------------------------------------


@pytest.fixture
def bare_mock() -> Iterator[LiveMock]:
    """A mock as the compose recipe starts it: an admin token, no users, no workflows."""
    with LiveMock({"ADMIN_TOKEN": ADMIN_TOKEN}) as mock:
        yield mock


def test_compose_setup_creates_the_workflow_the_app_sends_to(bare_mock: LiveMock) -> None:
    """mock-setup's script (run here against a mock on 127.0.0.1, twice: a second `up` changes
    nothing) creates the user and workflow through the admin API; an event sent with the app's
    trigger URL and credentials is a Succeeded run."""
    compose = _load("compose.yaml")
    mock, setup, app = (compose["services"][n] for n in ("qualtrics-mock", "mock-setup", "app"))
    mounts = {v.split(":")[1]: v.split(":")[0] for v in mock["volumes"]}
    assert mounts["/data"] in compose["volumes"], "run history on a named volume"
    assert "QHARNESS_MOCK_ADMIN_TOKEN:?" in mock["environment"]["QHARNESS_MOCK_ADMIN_TOKEN"]
    assert "qualtrics-mock" in mock["environment"]["QHARNESS_PUBLIC_HOSTS"].split(",")
    assert all(p.startswith("127.0.0.1:") for p in mock["ports"]), "UI and admin API stay local"
    assert setup["depends_on"]["qualtrics-mock"]["condition"] == "service_healthy"
    assert app["depends_on"]["mock-setup"]["condition"] == "service_completed_successfully"
    program, flag, script = setup["command"]
    assert (program, flag) == ("python3", "-c")
    script = script.replace("http://qualtrics-mock:8080", bare_mock.url)
    for _ in range(2):
        done = bash(
            f"python -c {shlex.quote(script)}", REPO, env={"QHARNESS_MOCK_ADMIN_TOKEN": ADMIN_TOKEN}
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("mock ready: http://127.0.0.1:")

    env = app["environment"]
    url = urlsplit(env["QUALTRICS_TRIGGER_URL"])
    assert (url.hostname, url.port) == ("qualtrics-mock", 8080)
    credentials = f"{env['QUALTRICS_USERNAME']}:{env['QUALTRICS_API_TOKEN']}"
    response = httpx.post(
        f"{bare_mock.url}{url.path}?{url.query}",
        json={"identityMap": {"Email": [{"id": "compose@example.com"}]}},
        headers={"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()},
    )
    assert response.status_code == 202, response.text
    runs = httpx.get(
        f"{bare_mock.url}/__admin/workflows/WF_post_purchase_csat/runs",
        params={"wait_for": 1, "timeout": 10},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ).json()["runs"]
    assert [(r["status"], r["fields"]) for r in runs] == [
        ("Succeeded", {"email": "compose@example.com"})
    ]


def test_readme_one_liner_runs_the_image_as_the_recipes_do() -> None:
    """The README's `docker run` line: token from the environment (not argv), port 8080 on
    loopback, the workflows file and the history volume where the image reads them."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [line] = [row for row in readme.splitlines() if row.startswith("docker run ") and " -p " in row]
    words = shlex.split(line)
    assert words[words.index("-e") + 1] == "QHARNESS_MOCK_ADMIN_TOKEN"  # no `=value` in argv
    assert words[words.index("-p") + 1] == "127.0.0.1:8080:8080"
    mounts = [words[i + 1] for i, w in enumerate(words) if w == "-v"]
    assert {m.split(":")[1] for m in mounts} == {"/config/workflows.toml", "/data"}
    image = _load("compose.yaml")["services"]["qualtrics-mock"]["image"]
    assert image.endswith(f":-{words[-1]}}}"), "README and compose name the same image"


def test_readme_certifies_without_python_from_the_image() -> None:
    """The README's certification from the image: the caller's directory and uid, JUnit out."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    [line] = [r for r in readme.splitlines() if r.startswith("docker run ") and "certify" in r]
    words = shlex.split(line, posix=False)
    assert words[words.index("-v") + 1] == '"$PWD:/work"'
    assert words[words.index("-w") + 1] == "/work"
    assert words[words.index("-u") + 1] == '"$(id -u):$(id -g)"'  # reports owned by the caller
    command = words[words.index("qharness") :]
    assert command[:3] == ["qharness", "certify", "activation.toml"]
    assert "--junit" in command
