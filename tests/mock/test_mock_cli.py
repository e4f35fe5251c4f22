"""``qharness mock serve`` (a real process for the SIGTERM smoke test) and ``qharness runs``."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from support.cli import qharness, qharness_text
from support.paths import WORKFLOWS
from support.served import serve

from connector.plugin import MockQualtrics

TOKEN_ID = "5f0c6c0e-8a47-4c1b-9d52-0b7c2a61d9e3"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    db = tmp_path / "mock.db"
    proc, url = serve("--workflows", str(WORKFLOWS), "--db", str(db))
    yield proc, url, db
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=10)


def test_serve_then_sigterm_flushes(served: tuple[subprocess.Popen[str], str, Path]) -> None:
    """A developer's mock from examples/workflows.toml (run delay 0.5 s); SIGTERM finishes the
    queued runs and flushes them to the file before exiting."""
    proc, url, db = served
    with httpx.Client(base_url=url) as c:
        assert c.get("/").status_code == 200
        for i in range(20):
            r = c.post(
                f"/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}",
                json={"identityMap": {"Email": [{"id": f"{i}@x.y"}]}},
                headers={"X-API-TOKEN": "local-dev-token"},
            )
            assert r.status_code == 202
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("SELECT COUNT(*) FROM runs WHERE status='Succeeded'").fetchone() == (
            20,
        )


def _thread_cpus(pid: int) -> set[str]:
    """The CPUs each thread of process ``pid`` may run on, as Linux lists them (``0-1``)."""
    tasks = Path(f"/proc/{pid}/task").iterdir()
    return {
        (task / "status").read_text().split("Cpus_allowed_list:")[1].split()[0] for task in tasks
    }


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs CPU affinity (Linux) and two CPUs",
)
@pytest.mark.parametrize("all_cpus", [False, True])
def test_serve_keeps_its_threads_on_one_cpu_unless_asked(all_cpus: bool) -> None:
    """Every thread of ``mock serve`` (event loop, workers, the store's writer) shares one CPU,
    so the GIL is not passed between CPUs; ``--all-cpus`` leaves the CPUs it was given."""
    given = _thread_cpus(os.getpid())
    proc, url = serve("--workflows", str(WORKFLOWS), *(["--all-cpus"] if all_cpus else []))
    try:
        assert httpx.get(url + "/__admin/health").status_code == 200
        cpus = _thread_cpus(proc.pid)
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    if all_cpus:
        assert cpus == given
    else:
        assert len(cpus) == 1
        assert next(iter(cpus)).isdigit()  # one CPU, not a range or a list


def test_non_loopback_needs_admin_token() -> None:
    everywhere = "0.0.0.0"  # noqa: S104 - the test is that it is refused
    done = qharness("mock", "serve", "--host", everywhere, env={"QHARNESS_MOCK_ADMIN_TOKEN": None})
    err = done.stderr.decode()
    assert done.returncode == 2
    assert len(err.strip().splitlines()) == 1
    assert "admin token" in err


def test_bad_workflows_file_is_usage_error(tmp_path: Path) -> None:
    """A workflow without an owner: exit 2, one line naming the file and the missing key."""
    bad = tmp_path / "w.toml"
    bad.write_text('[[workflows]]\nname = "x"\n')
    done = qharness("mock", "serve", "--port", "0", "--workflows", str(bad))
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert str(bad) in err
    assert "owner" in err


def test_runs_table_and_json(mock_qualtrics: MockQualtrics) -> None:
    mock_qualtrics.add_user("u", "t")
    wf = mock_qualtrics.create_workflow(
        "Survey", "u", fields=[{"name": "e", "jsonpath": "$.e", "required": True}]
    )
    httpx.post(wf["trigger_url"], json={"e": "x@y.z"}, headers={"X-API-TOKEN": "t"})
    httpx.post(wf["trigger_url"], json={}, headers={"X-API-TOKEN": "t"})
    mock_qualtrics.runs(wf["id"], wait_for=2)
    code, table, err = qharness_text("runs", "--mock", mock_qualtrics.url)
    assert code == 0, err
    assert "Succeeded" in table
    assert "Failed" in table
    assert 'e="x@y.z"' in table
    code, as_json, err = qharness_text(
        "runs", "--mock", mock_qualtrics.url, "--json", "--status", "Failed", "--workflow", wf["id"]
    )
    assert code == 0, err
    (failed,) = json.loads(as_json)["runs"]
    assert "$.e" in failed["error"]


def test_runs_user_mistakes(
    mock_qualtrics: MockQualtrics, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad URL, an unknown workflow, an unreachable mock: exit 2 and one line saying which."""
    from connector.cli import main

    for args, said in (
        (["--mock", "nope"], "--mock"),
        (["--mock", mock_qualtrics.url, "--workflow", "WF_x"], "WF_x"),
        (["--mock", "http://127.0.0.1:9"], "cannot reach the mock"),
    ):
        assert main(["runs", *args]) == 2, args
        err = capsys.readouterr().err
        assert said in err
        assert len(err.strip().splitlines()) == 1, err


def test_deleted_workflows_keep_their_runs(
    mock_qualtrics: MockQualtrics, capsys: pytest.CaptureFixture[str]
) -> None:
    """Deleting a workflow keeps its runs: the admin API lists them, ``qharness runs`` names the
    workflow "Deleted Workflow" (as Qualtrics does) and shows a repeat's ``duplicate_of``."""
    from connector.cli import main

    mock_qualtrics.add_user("u", "t")
    wf = mock_qualtrics.create_workflow("Gone soon", "u")
    for _ in range(2):
        assert (
            httpx.post(wf["trigger_url"], json={}, headers={"X-API-TOKEN": "t"}).status_code == 202
        )
    newest, first = mock_qualtrics.runs(wf["id"], wait_for=2)
    mock_qualtrics.delete_workflow(wf["id"])
    assert mock_qualtrics.workflows() == []
    assert [r["id"] for r in mock_qualtrics.runs(wf["id"])] == [newest["id"], first["id"]]
    assert newest["duplicate_of"] == first["id"]
    assert main(["runs", "--mock", mock_qualtrics.url]) == 0
    table = capsys.readouterr().out
    assert table.count("Deleted Workflow") == 2
    assert "Gone soon" not in table
    assert first["id"] in table.splitlines()[1]  # the newest run's DUPLICATE OF column
    assert main(["runs", "--mock", mock_qualtrics.url, "--workflow", wf["id"]]) == 0
    assert capsys.readouterr().out.count("Deleted Workflow") == 2


def test_off_loopback_needs_a_16_character_admin_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A short token is refused with one line that says how to set a good one."""
    from connector.cli import main

    monkeypatch.setenv("QHARNESS_MOCK_ADMIN_TOKEN", "short")
    assert main(["mock", "serve", "--host", "0.0.0.0", "--port", "0"]) == 2  # noqa: S104
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "at least 16" in err
    assert "-e QHARNESS_MOCK_ADMIN_TOKEN=" in err
    assert "short" not in err.replace("is 5 characters", "")


def test_serve_flags_layer_over_the_file(tmp_path: Path) -> None:
    """A flag given wins; a flag left out leaves the file's value; --public-host is kept."""
    from connector.cli.mock import _settings

    file = tmp_path / "m.toml"
    file.write_text('[limits]\npayload_storage = "none"\nrun_delay = 2.0\n')
    flags = {"RUN_DELAY": 0.0, "PAYLOAD_STORAGE": None, "DATABASE": None}
    config = _settings(str(file), {**flags, "PUBLIC_HOSTS": ("mock.test", "b.test")}, None)
    assert config["RUN_DELAY"] == 0.0
    assert config["PAYLOAD_STORAGE"] == "none"
    assert "DATABASE" not in config
    assert config["PUBLIC_HOSTS"] == ("mock.test", "b.test")
    # Regression: an explicit --run-delay was detected by comparing it with 0.5, so
    # `--run-delay 0.5` lost to the file, and the file's value needed no flag to be overridden.
    assert _settings(str(file), {"RUN_DELAY": 0.5}, None)["RUN_DELAY"] == 0.5
    assert _settings(str(file), {"RUN_DELAY": None}, None)["RUN_DELAY"] == 2.0


def test_a_thread_error_is_one_line_and_fails_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An exception in any thread of a command prints one line, no traceback, and exit 1."""
    import threading

    import click

    from connector.cli import cli, main

    @click.command("explode-in-a-thread")
    def explode() -> None:
        def boom() -> None:
            raise OSError(9, "Bad file descriptor")

        worker = threading.Thread(target=boom, name="waitress-3")
        worker.start()
        worker.join()

    monkeypatch.setitem(cli.commands, "explode-in-a-thread", explode)
    monkeypatch.delenv("QHARNESS_DEBUG", raising=False)
    assert main(["explode-in-a-thread"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip() == (
        "qharness: internal error in waitress-3: OSError: [Errno 9] Bad file descriptor; "
        "rerun with QHARNESS_DEBUG=1 for the traceback"
    )


def test_a_db_that_cannot_be_opened_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from connector.cli import main

    missing = tmp_path / "no" / "such" / "dir" / "mock.db"
    assert main(["mock", "serve", "--port", "0", "--db", str(missing)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"error: --db {missing}: cannot open")
