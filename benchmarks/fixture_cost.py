"""What the ``mock_qualtrics`` fixture costs a test, beside pytest-httpserver's ``httpserver``.

Files of 50 tests are generated and each run by pytest in its own process, alternating, in the
same run, each with only its own fixture's plugin loaded (``-p no:`` the other), as a project
that uses one of them runs: for each fixture, tests that only take it, and tests that also POST
once (the mock: to a workflow the marker gives, or add a user and create a workflow over HTTP
first; pytest-httpserver: one expectation, one POST); a file of bare tests, the baseline; and
the floor, a 40-line durable mock defined in its own file (see ``FLOOR``), which shows how much
of the gap any mock with a durable 202 on the mock's server stack pays, before its first check.
All POST through one module-level ``httpx.Client``, so none pays for making a client.

Reported per test: the mean of pytest's own setup + call + teardown (timed by a conftest hook,
the first test's import and server start included), the median (the steady cost of one more
test), and the whole pytest process's wall time per test, imports and start-up included on both
sides, less the bare file's: what the fixture and its requests add to a 50-test file. That last
column decides. Target: the mock at most 1.0x pytest-httpserver. Informational.

    python benchmarks/fixture_cost.py [--rounds 3] [--tests 50]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HEADER = """
import json, httpx, pytest

CLIENT = httpx.Client()
PAYLOAD = {"identityMap": {"Email": [{"id": "a@example.com"}]}}
TOKEN_ID = "5f0c6c0e-8a47-4c1b-9d52-0b7c2a61d9e3"
"""
#: The baseline file: no fixture, run with neither plugin (its name matches no PLUGINS key).
BARE = "bare tests, no fixture (the baseline)"
#: The floor: the least a durable mock on the mock's server stack does, defined in the file and
#: run with neither plugin. One session-scoped waitress server, a Werkzeug request, a WAL SQLite
#: insert per POST (``synchronous=NORMAL``, as the mock's store), a DELETE per test: no auth, no
#: config, no checks, no admin API. What it adds over the bare file is the part of pytest-httpserver's
#: cost no mock with a durable 202 on waitress and Werkzeug can go below.
FLOOR = "floor: a 40-line durable mock, one POST"
FILES = {
    BARE: """
@pytest.mark.parametrize("n", range({tests}))
def test_it(n):
    assert n >= 0
""",
    "mock_qualtrics, fixture only": """
@pytest.mark.parametrize("n", range({tests}))
def test_it(mock_qualtrics, n):
    assert mock_qualtrics.url
""",
    "pytest-httpserver, fixture only": """
@pytest.mark.parametrize("n", range({tests}))
def test_it(httpserver, n):
    assert httpserver.url_for("/")
""",
    "mock_qualtrics, one POST": """
@pytest.mark.parametrize("n", range({tests}))
def test_it(mock_qualtrics, n):
    mock_qualtrics.add_user("u", "t")
    wf = mock_qualtrics.create_workflow("W", "u")
    answer = CLIENT.post(wf["trigger_url"], json=PAYLOAD, headers={"X-API-TOKEN": "t"})
    assert answer.status_code == 202
""",
    "mock_qualtrics, one POST, workflow from the marker": """
@pytest.mark.mock_qualtrics(
    users=[{"username": "u", "api_token": "t"}],
    workflows=[{"id": "WF_1", "name": "W", "owner": "u", "url_token_id": TOKEN_ID}],
)
@pytest.mark.parametrize("n", range({tests}))
def test_it(mock_qualtrics, n):
    url = f"{mock_qualtrics.url}/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}"
    answer = CLIENT.post(url, json=PAYLOAD, headers={"X-API-TOKEN": "t"})
    assert answer.status_code == 202
""",
    FLOOR: """
@pytest.fixture(scope="session")
def _floor(tmp_path_factory):
    import sqlite3, threading
    from waitress.server import create_server
    from werkzeug.wrappers import Request

    db = sqlite3.connect(
        tmp_path_factory.mktemp("floor") / "runs.db", check_same_thread=False,
        isolation_level=None,
    )
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, body BLOB)")
    lock = threading.Lock()

    def app(environ, start_response):
        body = Request(environ).get_data()
        json.loads(body)
        with lock:
            db.execute("INSERT INTO runs (body) VALUES (?)", (body,))
        start_response("202 Accepted", [("Content-Length", "2")])
        return [b"{}"]

    server = create_server(app, host="127.0.0.1", port=0)
    threading.Thread(target=server.run, daemon=True).start()
    yield server, db, lock
    server.close()

@pytest.fixture
def floor(_floor):
    server, db, lock = _floor
    with lock:
        db.execute("DELETE FROM runs")
    return f"http://127.0.0.1:{server.effective_port}/trigger"

@pytest.mark.parametrize("n", range({tests}))
def test_it(floor, n):
    answer = CLIENT.post(floor, json=PAYLOAD)
    assert answer.status_code == 202
""",
    "pytest-httpserver, one POST": """
@pytest.mark.parametrize("n", range({tests}))
def test_it(httpserver, n):
    httpserver.expect_request("/trigger", method="POST").respond_with_json({}, status=202)
    answer = CLIENT.post(httpserver.url_for("/trigger"), json=PAYLOAD)
    assert answer.status_code == 202
""",
}
#: Times each test's setup, call and teardown (pytest's own ``--durations`` rounds to 10 ms).
CONFTEST = """
import json, os, time, pytest

TIMES = []

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    started = time.perf_counter()
    yield
    TIMES.append(time.perf_counter() - started)

def pytest_sessionfinish(session):
    with open(os.environ["FIXTURE_COST_TIMES"], "w") as out:
        json.dump(TIMES, out)
"""


#: Each fixture's plugin (entry point name), by the start of a file's name: a file runs without
#: the plugins of the fixtures it does not use.
PLUGINS = {"mock_qualtrics": "qualtrics_harness", "pytest-httpserver": "pytest_httpserver"}


def _without_others(name: str) -> list[str]:
    mine = name.split(",")[0]
    return [
        arg for other, plugin in PLUGINS.items() if other != mine for arg in ("-p", f"no:{plugin}")
    ]


def per_test_ms(path: Path, tests: int, name: str) -> tuple[float, float, float]:
    """Mean and median time of a test in ``path`` (setup, call, teardown), and the whole pytest
    process's wall time divided by the tests (start-up and plugin imports included, which the
    mean leaves out for pytest-httpserver: it is imported when pytest loads plugins), in ms."""
    times = path.with_suffix(".json")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    started = time.perf_counter()
    result = subprocess.run(
        [*command, *_without_others(name), path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "FIXTURE_COST_TIMES": str(times)},
    )
    if result.returncode != 0:
        raise SystemExit(f"{path.name} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    wall = time.perf_counter() - started
    measured = json.loads(times.read_text())
    if len(measured) != tests:
        raise SystemExit(f"{path.name}: {len(measured)} tests timed, {tests} expected")
    return sum(measured) / tests * 1000, statistics.median(measured) * 1000, wall / tests * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs of each file, alternating")
    parser.add_argument("--tests", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="one round")
    args = parser.parse_args()
    rounds = 1 if args.quick else args.rounds
    try:
        import pytest_httpserver  # noqa: F401 - only checking it is there
    except ImportError:
        print("fixture cost: skipped (pip install pytest-httpserver: the baseline)")
        return
    print(f"fixture cost per test, {args.tests}-test files, median of {rounds} rounds")
    print(f"load average {os.getloadavg()[0]:.1f} (the machine is shared: the ratio matters)")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "conftest.py").write_text(CONFTEST)
        paths = {}
        for n, (name, body) in enumerate(FILES.items()):
            paths[name] = Path(tmp) / f"test_cost_{n}.py"
            paths[name].write_text(
                HEADER + textwrap.dedent(body).replace("{tests}", str(args.tests))
            )
        figures: dict[str, list[tuple[float, float, float]]] = {name: [] for name in FILES}
        for _ in range(rounds):
            for name, path in paths.items():
                figures[name].append(per_test_ms(path, args.tests, name))
    means = {name: statistics.median(v[0] for v in values) for name, values in figures.items()}
    steady = {name: statistics.median(v[1] for v in values) for name, values in figures.items()}
    whole = {name: statistics.median(v[2] for v in values) for name, values in figures.items()}
    added = {name: whole[name] - whole[BARE] for name in FILES}
    print(f"  {'ms per test':<50} {'mean':>7} {'median':>7} {'process':>8} {'added':>7}")
    for name in FILES:
        row = f"{means[name]:7.1f} {steady[name]:7.1f} {whole[name]:8.1f} {added[name]:7.1f}"
        print(f"  {name:<50} {row}")
    for kind, mock in (
        ("fixture only", "fixture only"),
        ("one POST", "one POST"),
        ("one POST", "one POST, workflow from the marker"),
    ):
        mean = means[f"mock_qualtrics, {mock}"] / means[f"pytest-httpserver, {kind}"]
        median = steady[f"mock_qualtrics, {mock}"] / steady[f"pytest-httpserver, {kind}"]
        process = whole[f"mock_qualtrics, {mock}"] / whole[f"pytest-httpserver, {kind}"]
        over = added[f"mock_qualtrics, {mock}"] / max(added[f"pytest-httpserver, {kind}"], 0.01)
        verdict = "" if over <= 1.0 else "   BELOW TARGET (at most 1.0x)"
        print(
            f"  mock ({mock}) / httpserver: mean {mean:.2f}x, median {median:.2f}x,"
            f" process {process:.2f}x, added {over:.2f}x{verdict}"
        )
    peer = "pytest-httpserver, one POST"
    print(
        f"  floor / httpserver (one POST): median {steady[FLOOR] / steady[peer]:.2f}x,"
        f" process {whole[FLOOR] / whole[peer]:.2f}x,"
        f" added {added[FLOOR] / max(added[peer], 0.01):.2f}x"
        " (the least a durable mock on waitress and Werkzeug costs; the mock's checks, admin API"
        " and UI come on top)"
    )
    print(
        "  (added: process per test less the bare file's. The mock's first test imports Flask and"
        " jsonschema and starts the mock, ~0.2 s; pytest-httpserver imports werkzeug when pytest"
        " loads its plugin, which its mean leaves out and its process column counts)"
    )
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
