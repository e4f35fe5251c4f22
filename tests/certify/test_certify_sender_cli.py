"""``qharness certify-sender`` from the command line: bad input, hanging senders, scenarios.

None of these senders sends anything, so no fault is ever played and each run takes a moment.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from support.cli import qharness_text

from connector.certify.sender import load_scenario
from connector.errors import UsageError


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no COMMAND to certify: give the sender after --"),
        (["--", "no-such-sender-anywhere"], "'no-such-sender-anywhere': not found on PATH"),
        (["--", "./not/here.sh"], "'./not/here.sh': no such file"),
    ],
)
def test_missing_or_unknown_command_is_a_usage_error(args: list[str], message: str) -> None:
    """Exit 2 with one line naming the problem; no traceback, no mock started."""
    code, out, err = qharness_text("certify-sender", *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in out + err


def test_a_file_that_is_not_executable_is_a_usage_error(tmp_path: Path) -> None:
    script = tmp_path / "sender.sh"
    script.write_text("echo hi\n")
    code, _, err = qharness_text("certify-sender", "--", str(script))
    assert code == 2
    assert "not executable" in err
    assert "sh script.sh" in err


def test_a_sender_that_exits_at_once_fails_with_its_output(tmp_path: Path) -> None:
    """sender.exit fails with the exit code and the output tail; the summary line comes last."""
    report = tmp_path / "r.json"
    code, out, _ = qharness_text(
        "certify-sender", "--profiles", "3", "--seed", "1", "--json", str(report), "--",
        "sh", "-c", "echo 'cannot connect to my queue' >&2; exit 3",
    )  # fmt: skip
    assert code == 1
    assert "FAIL  sender.exit" in out
    assert "exited 3 after" in out
    assert "last output: cannot connect to my queue" in out
    assert ": no run (no request for it arrived)" in out
    # Nothing arrived: what needs arrivals fails; "no duplicate", "no early retry" stay true.
    assert "PASS  sender.no-duplicates" in out
    assert "PASS  sender.retry-after" in out
    assert out.rstrip().splitlines()[-1] == "certification failed: 2 passed, 5 failed"
    data = json.loads(report.read_text())
    assert data["checks"]["sender.exit"]["status"] == "failed"
    assert "cannot connect to my queue" in data["sender_output_tail"][-1]


def test_a_hanging_sender_is_ended_with_its_process_group(tmp_path: Path) -> None:
    """--timeout ends the sender and the child it started; the report says so."""
    pid_file = tmp_path / "child.pid"
    code, out, _ = qharness_text(
        "certify-sender", "--profiles", "2", "--timeout", "2", "--",
        "sh", "-c", f"sleep 300 & echo $! > {pid_file}; wait",
    )  # fmt: skip
    assert code == 1
    assert "FAIL  sender.exit" in out
    assert "ended at --timeout with its process group" in out
    child = int(pid_file.read_text())
    for _ in range(50):  # the kill is sent; the kernel may take a moment
        if not alive(child):
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the sender's child outlived --timeout")


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper that is not there is dead)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return "\nState:\tZ" not in status


def test_the_sender_sees_its_environment(tmp_path: Path) -> None:
    """The five variables are set; the profiles file has --profiles lines; secrets stay out."""
    dump = tmp_path / "env.json"
    script = (
        "import json, os, sys; names = [n for n in os.environ if n.startswith('QHARNESS_')]; "
        "env = {n: os.environ[n] for n in names}; "
        "env['lines'] = len(open(env['QHARNESS_PROFILES']).readlines()); "
        "env['activation'] = json.load(open(env['QHARNESS_ACTIVATION']))['destination']; "
        f"json.dump(env, open({str(dump)!r}, 'w')); print(env['QHARNESS_TRIGGER_URL'])"
    )
    report = tmp_path / "r.md"
    code, out, _ = qharness_text(
        "certify-sender", "--profiles", "5", "--report", str(report), "--",
        sys.executable, "-c", script,
    )  # fmt: skip
    env = json.loads(dump.read_text())
    assert {
        "QHARNESS_TRIGGER_URL", "QHARNESS_USERNAME", "QHARNESS_API_TOKEN",
        "QHARNESS_PROFILES", "QHARNESS_ACTIVATION",
    } <= set(env)  # fmt: skip
    assert env["lines"] == 5
    assert env["activation"]["url"] == env["QHARNESS_TRIGGER_URL"]
    assert env["activation"]["api_token_env"] == "QHARNESS_API_TOKEN"
    assert env["activation"]["username"] == env["QHARNESS_USERNAME"]
    token_id = env["QHARNESS_TRIGGER_URL"].rsplit("=", 1)[1]
    for text in (out, report.read_text()):
        assert env["QHARNESS_API_TOKEN"] not in text
        assert token_id not in text
    assert "urlTokenId=***" in out
    assert code == 1


def test_scenario_errors_name_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "s.toml"
    bad.write_text("[[faults]]\nat = [0.5, 0.2]\nstatus = 503\n")
    with pytest.raises(UsageError, match=r"s\.toml: faults\[0\]\.at: must be \[from, to\]"):
        load_scenario(bad)
    bad.write_text("[[faults]]\nat = [0.1, 0.2]\nstatuss = 503\n")
    with pytest.raises(UsageError, match=r"faults\[0\]\.statuss: unknown key"):
        load_scenario(bad)


def test_the_default_scenario_is_seeded_and_complete() -> None:
    """Same seed, same plan; every fault on its own request within the profiles."""
    scenario = load_scenario()
    plan = scenario.plan(50, seed=7)
    assert plan == scenario.plan(50, seed=7)
    assert len({p.request for p in plan}) == len(plan) == len(scenario.steps)
    assert all(1 <= p.request <= 50 for p in plan)
    kinds = " ".join(p.describe() for p in plan)
    for needle in (
        "answered 503",
        "429 with Retry-After: 2",
        "dropped before processing",
        "answer is lost",
    ):
        assert needle in kinds
    tiny = scenario.plan(3, seed=7)
    assert len({p.request for p in tiny}) == len(scenario.steps)


def test_an_outage_step_takes_its_requests_in_a_row(tmp_path: Path) -> None:
    """``count`` reserves consecutive requests, and no other step lands inside them."""
    path = tmp_path / "s.toml"
    path.write_text(
        "[[faults]]\nat = [0.1, 0.1]\nstatus = 503\ncount = 5\n"
        "[[faults]]\nat = [0.1, 0.1]\nstatus = 429\nretry_after = 1\n"
    )
    plan = load_scenario(path).plan(20, seed=3)
    assert [(p.request, p.step.count) for p in plan] == [(2, 5), (7, 1)]
    assert plan[0].describe() == "request #2-#6: answered 503, 5 requests in a row"
    path.write_text("[[faults]]\nat = [0.1, 0.1]\nstatus = 503\ncount = 0\n")
    with pytest.raises(UsageError, match=r"faults\[0\]\.count: must be 1 to 10000"):
        load_scenario(path)
