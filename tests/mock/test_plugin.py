"""The pytest plugin's ``mock_qualtrics`` fixture (installed through the pytest11 entry point)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from connector.plugin import MockQualtrics

FIELDS = [{"name": "email", "jsonpath": "$.identityMap.Email[0].id", "required": True}]
PAYLOAD = {"identityMap": {"Email": [{"id": "a@example.com"}]}}


def test_fixture_helpers(mock_qualtrics: MockQualtrics) -> None:
    """add_user, create_workflow, runs (long-poll), events, inject_fault and reset."""
    assert mock_qualtrics.url.startswith("http://127.0.0.1:")
    mock_qualtrics.add_user("u@example.com", "tok")
    wf = mock_qualtrics.create_workflow("W", "u@example.com", fields=FIELDS)
    assert {"id", "trigger_url", "urlTokenId"} <= set(wf)
    mock_qualtrics.inject_fault(status=429, retry_after=1)
    first = httpx.post(wf["trigger_url"], json=PAYLOAD, auth=("u@example.com", "tok"))
    assert first.status_code == 429
    second = httpx.post(wf["trigger_url"], json=PAYLOAD, auth=("u@example.com", "tok"))
    assert second.status_code == 202
    (run,) = mock_qualtrics.runs(wf["id"], wait_for=1)
    assert run["status"] == "Succeeded"
    assert run["fields"] == {"email": "a@example.com"}
    assert mock_qualtrics.runs(wf["id"], status="Failed") == []
    assert [e["outcome"] for e in mock_qualtrics.events()] == ["accepted", "fault"]
    mock_qualtrics.reset()
    assert mock_qualtrics.events() == []
    assert mock_qualtrics.runs(wf["id"]) == []


def test_fixture_is_fresh_per_test(mock_qualtrics: MockQualtrics) -> None:
    assert mock_qualtrics.events() == []
    with pytest.raises(AssertionError, match="owner"):
        mock_qualtrics.create_workflow("W", "")


def test_plugin_in_a_user_project(tmp_path: Path) -> None:
    """A project with no conftest gets the fixture from the installed plugin."""
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
        import httpx

        def test_it(mock_qualtrics):
            mock_qualtrics.add_user("u", "t")
            wf = mock_qualtrics.create_workflow("W", "u", enabled=False)
            r = httpx.post(wf["trigger_url"], json={}, headers={"X-API-TOKEN": "t"})
            assert r.status_code == 202
            assert mock_qualtrics.runs(wf["id"]) == []
            assert mock_qualtrics.events()[0]["outcome"] == "disabled"
        """
        )
    )
    result = _pytest_in(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_fixture_is_faithful_by_default(mock_qualtrics: MockQualtrics) -> None:
    """No deduplication unless a test asks: a repeated key makes a second run."""
    mock_qualtrics.add_user("u", "t")
    wf = mock_qualtrics.create_workflow("W", "u", fields=FIELDS)
    headers = {"X-API-TOKEN": "t", "Idempotency-Key": "k"}
    for _ in range(2):
        assert httpx.post(wf["trigger_url"], json=PAYLOAD, headers=headers).status_code == 202
    second, first = mock_qualtrics.runs(wf["id"], wait_for=2)
    assert second["duplicate_of"] == first["id"]


@pytest.mark.mock_qualtrics(
    limits={"rate_limit": 1, "rate_burst": 1}, extensions={"idempotency_keys": True}
)
def test_marker_configures_the_fixture(mock_qualtrics: MockQualtrics) -> None:
    """The marker takes the mock config file's tables: here a limit and the extension."""
    mock_qualtrics.add_user("u", "t")
    wf = mock_qualtrics.create_workflow("W", "u", fields=FIELDS)
    headers = {"X-API-TOKEN": "t", "Idempotency-Key": "k"}
    first = httpx.post(wf["trigger_url"], json=PAYLOAD, headers=headers)
    again = httpx.post(wf["trigger_url"], json=PAYLOAD, headers=headers)
    assert again.json()["meta"]["requestId"] == first.json()["meta"]["requestId"]
    assert len(mock_qualtrics.runs(wf["id"], wait_for=1)) == 1
    other = httpx.post(wf["trigger_url"], json=PAYLOAD, headers={"X-API-TOKEN": "t"})
    assert other.status_code == 429


def test_marker_mistakes_and_thread_errors_fail_the_test(tmp_path: Path) -> None:
    """A bad marker key names itself; an error in the mock's threads fails the owning test
    with one line, and nothing reaches stderr."""
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
        import logging, pytest

        @pytest.mark.mock_qualtrics(limits={"rate_limitt": 1})
        def test_bad_key(mock_qualtrics):
            pass

        def test_thread_error(mock_qualtrics):
            logging.getLogger("waitress").error("boom", exc_info=RuntimeError("worker died"))
        """
        )
    )
    result = _pytest_in(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "limits.rate_limitt: unknown limit" in result.stdout
    assert "the mock's threads failed: internal error in MainThread: RuntimeError: worker died" in (
        result.stdout
    )
    assert "Traceback" not in result.stdout + result.stderr


def test_each_marker_configures_its_own_tests(tmp_path: Path) -> None:
    """A parametrized test's items share one marker, whose config is checked once: each item
    still gets that marker's mock, another marker's test gets its own, and a bad marker fails
    every item that carries it."""
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
        import httpx, pytest

        def usernames(mock):
            return [u["username"] for u in httpx.get(mock.url + "/__admin/users").json()["users"]]

        @pytest.mark.mock_qualtrics(users=[{"username": "a", "api_token": "t"}])
        @pytest.mark.parametrize("n", range(3))
        def test_a(mock_qualtrics, n):
            assert usernames(mock_qualtrics) == ["a"]
            mock_qualtrics.add_user("extra", "t")

        @pytest.mark.mock_qualtrics(users=[{"username": "b", "api_token": "t"}])
        @pytest.mark.parametrize("n", range(3))
        def test_b(mock_qualtrics, n):
            assert usernames(mock_qualtrics) == ["b"]

        @pytest.mark.mock_qualtrics(limits={"rate_limitt": 1})
        @pytest.mark.parametrize("n", range(2))
        def test_bad(mock_qualtrics, n):
            pass
        """
        )
    )
    result = _pytest_in(tmp_path)
    assert "6 passed, 2 errors" in result.stdout, result.stdout + result.stderr
    assert result.stdout.count("limits.rate_limitt: unknown limit") >= 2
    assert "During handling" not in result.stdout  # one line per item, not a chain


def test_a_helper_a_test_closed_is_replaced_for_the_next(tmp_path: Path) -> None:
    """Tests of one configuration share a helper; one that closes it leaves the next a working
    one (pytest runs a file's tests in order: this suite installs no test shuffler)."""
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
        def test_closes_it(mock_qualtrics):
            mock_qualtrics.add_user("u", "t")
            mock_qualtrics.close()

        def test_next(mock_qualtrics):
            assert mock_qualtrics.events() == []
            mock_qualtrics.add_user("u", "t")
        """
        )
    )
    result = _pytest_in(tmp_path)
    assert "2 passed" in result.stdout, result.stdout + result.stderr


def _pytest_in(project: Path) -> subprocess.CompletedProcess[str]:
    """``pytest test_user.py`` run in ``project`` as its own process, as a user's project runs:
    the plugin comes from the installed package's entry point, not from this suite's conftest."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_run_that_never_asks_for_the_fixture_loads_none_of_it(tmp_path: Path) -> None:
    """pytest imports the plugin in every run where the package is installed: it must cost such a
    run nothing (the fixture's httpx, jsonschema, Flask and mock came to 110 ms at start-up)."""
    (tmp_path / "test_plain.py").write_text(
        textwrap.dedent(
            """
        import sys

        def test_it():
            heavy = ("httpx", "jsonschema", "flask", "mock_qualtrics", "connector.mock_fixture")
            assert "connector.plugin" in sys.modules
            assert [name for name in heavy if name in sys.modules] == []
        """
        )
    )
    result = subprocess.run(  # this plugin alone: other installed ones (respx) import httpx
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "connector.plugin"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_the_packages_are_imported_without_assertion_rewriting(tmp_path: Path) -> None:
    """pytest would parse and compile every module of this distribution again in each process
    where bytecode is not written (a CI image's ``PYTHONDONTWRITEBYTECODE``): the mock's first
    test paid 0.2 s for it. A test's own modules are still rewritten."""
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
        import sys

        def test_it(mock_qualtrics):
            loaders = {
                name: type(sys.modules[name].__loader__).__name__
                for name in ("connector.mock_fixture", "mock_qualtrics.app", "contracts.facts")
            }
            assert "AssertionRewritingHook" not in loaders.values(), loaders
            assert type(__loader__).__name__ == "AssertionRewritingHook"
        """
        )
    )
    result = _pytest_in(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
