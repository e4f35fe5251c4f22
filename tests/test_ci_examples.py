"""The CI recipes in examples/ci/ do what they say: parsed, checked, and their commands run here.

Each recipe is read with a YAML parser, its commands are checked (certification with ``--junit``,
the report uploaded or declared as a JUnit artifact, the mock as a service wired to its app), and
then the commands themselves run in a temporary checkout with this machine's ``qharness``. Three
things differ from a team's CI: the install step is skipped (it is where a team names its own
package source), a service's address is replaced by a mock started here on 127.0.0.1, and
certification runs 100 generated profiles instead of 1000 to keep the suite fast (every check
and every report still runs).
"""

from __future__ import annotations

import base64
import json
import os
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


def _is_install(command: str) -> bool:
    return "pip install" in command or command.startswith("test -n")


def _run(commands: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run a recipe's shell lines as its CI would (bash, stop at the first failure)."""
    lines = [
        f"{c} --examples {EXAMPLES}" if c.startswith("qharness certify") else c
        for c in commands
        if not _is_install(c)
    ]
    script = "set -euo pipefail\n" + "\n".join(lines)
    result = bash(script, cwd, env=env)
    assert result.returncode == 0, (
        f"{script}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )


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


def test_github_actions_gate_runs_certify_and_uploads_the_junit_report(checkout: Path) -> None:
    """The certify job runs `qharness certify --junit` and uploads the folder the report is in."""
    workflow = _load("github-actions.yml")
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers
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
    job = _load("github-actions.yml")["jobs"]["certify-against-mock-service"]
    service = job["services"]["qualtrics-mock"]
    assert "8080:8080" in service["ports"]
    assert "secrets.QHARNESS_MOCK_ADMIN_TOKEN" in service["env"]["QHARNESS_MOCK_ADMIN_TOKEN"]
    # The steps need the token too: certification creates its user and workflows on the mock.
    assert "secrets.QHARNESS_MOCK_ADMIN_TOKEN" in job["env"]["QHARNESS_MOCK_ADMIN_TOKEN"]
    commands = [c.replace("http://localhost:8080", service_mock.url) for c in _gha_runs(job)]
    assert any("--mock " + service_mock.url in c for c in commands)
    junit = _junit_path(next(c for c in commands if c.startswith("qharness certify")))
    _run(commands, checkout, {"QHARNESS_MOCK_ADMIN_TOKEN": ADMIN_TOKEN})
    _assert_junit(checkout / junit)
    history = json.loads((checkout / "reports" / "mock-runs.json").read_text(encoding="utf-8"))
    assert history["runs"], "the certification's runs are in the mock's history"


# --- GitLab CI ----------------------------------------------------------------------------


def test_gitlab_gate_declares_the_junit_artifact_and_passes(checkout: Path) -> None:
    """The certify job writes JUnit where `artifacts:reports:junit` reads it, even on failure."""
    job = _load("gitlab-ci.yml")["certify"]
    commands = _lines(job["before_script"]) + _lines(job["script"])
    [certify] = [c for c in commands if c.startswith("qharness certify")]
    junit = _junit_path(certify)
    assert job["artifacts"]["reports"]["junit"] == junit
    assert job["artifacts"]["when"] == "always"
    _run(commands, checkout)
    _assert_junit(checkout / junit)


def test_gitlab_service_is_reachable_by_its_alias(checkout: Path, service_mock: LiveMock) -> None:
    """The service's alias is the Host it allows and the URL the job uses; the job's commands pass."""
    job = _load("gitlab-ci.yml")["integration-tests"]
    [service] = job["services"]
    alias = service["alias"]
    assert alias in re.split(r"[,\s]+", service["variables"]["QHARNESS_PUBLIC_HOSTS"])
    assert urlsplit(job["variables"]["QUALTRICS_MOCK_URL"]).hostname == alias
    env = {"QUALTRICS_MOCK_URL": service_mock.url, "QHARNESS_MOCK_ADMIN_TOKEN": ADMIN_TOKEN}
    _run(_lines(job["before_script"]) + _lines(job["script"]), checkout, env)
    assert json.loads((checkout / "reports" / "mock-runs.json").read_text(encoding="utf-8")) == {
        "runs": []
    }


# --- compose ------------------------------------------------------------------------------


def test_compose_app_reaches_the_mock_by_service_name(service_mock: LiveMock) -> None:
    """The app's trigger URL and credentials are a workflow and user of the mounted file, and
    an event sent with them (to the mock started here) is a Succeeded run."""
    compose = _load("compose.yaml")
    mock, app = compose["services"]["qualtrics-mock"], compose["services"]["app"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in mock["volumes"]}
    assert mounts["/data"] in compose["volumes"], "run history on a named volume"
    workflows_file = (CI / mounts["/config/workflows.toml"]).resolve()
    assert workflows_file == WORKFLOWS
    assert "QHARNESS_MOCK_ADMIN_TOKEN:?" in mock["environment"]["QHARNESS_MOCK_ADMIN_TOKEN"]
    assert "qualtrics-mock" in mock["environment"]["QHARNESS_PUBLIC_HOSTS"].split(",")
    assert app["depends_on"]["qualtrics-mock"]["condition"] == "service_healthy"
    assert all(p.startswith("127.0.0.1:") for p in mock["ports"]), "UI and admin API stay local"

    env = app["environment"]
    url = urlsplit(env["QUALTRICS_TRIGGER_URL"])
    assert (url.hostname, url.port) == ("qualtrics-mock", 8080)
    config = load_toml(workflows_file)
    token_id = url.query.removeprefix("urlTokenId=")
    [workflow] = [w for w in config["WORKFLOWS"] if w.get("url_token_id") == token_id]
    credentials = f"{env['QUALTRICS_USERNAME']}:{env['QUALTRICS_API_TOKEN']}"
    response = httpx.post(
        f"{service_mock.url}{url.path}?{url.query}",
        json={"identityMap": {"Email": [{"id": "compose@example.com"}]}},
        headers={"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()},
    )
    assert response.status_code == 202, response.text
    runs = httpx.get(
        f"{service_mock.url}/__admin/workflows/{workflow['id']}/runs",
        params={"wait_for": 1, "timeout": 10},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ).json()["runs"]
    assert [r["status"] for r in runs] == ["Succeeded"]


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


@pytest.mark.parametrize("recipe", ["github-actions", "gitlab"])
def test_install_step_refuses_to_guess_the_package(recipe: str, tmp_path: Path) -> None:
    """Without QHARNESS_PACKAGE the install step stops (exit 2, naming the variable) before pip
    could fetch a same-named package from elsewhere."""
    if recipe == "gitlab":
        lines = _lines(_load("gitlab-ci.yml")["certify"]["before_script"])
    else:
        job = _load("github-actions.yml")["jobs"]["certify"]
        [step] = [s for s in job["steps"] if "pip install" in str(s.get("run", ""))]
        lines = _lines(step["run"])
    env = {k: v for k, v in os.environ.items() if k != "QHARNESS_PACKAGE"}
    result = subprocess.run(
        ["/bin/bash", "-c", "set -e\n" + "\n".join(lines)],
        cwd=tmp_path,
        env={**env, "PATH": str(tmp_path)},  # no pip to reach, were the guard missing
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "QHARNESS_PACKAGE" in result.stdout + result.stderr
