"""``qharness probe`` against a stand-in "real Qualtrics" on 127.0.0.1, through the CLI.

The stand-in (``support.standin``) is the mock with six answers of its own; every probe goes to it
and to the probe's embedded mock over real HTTP.
"""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
from pathlib import Path

import pytest
from support.cli import QHARNESS, environment, qharness_text
from support.standin import PASSWORD, URL_TOKEN, USERNAME, standin

from connector.validate import validator_for
from mock_qualtrics import MockAdmin

ENV = {"QH_PROBE_TOKEN": PASSWORD}
CREDENTIALS = ("--username", USERNAME, "--token-env", "QH_PROBE_TOKEN")

#: What the differing stand-in answers where the mock does not: probe id -> (stand-in, mock).
GROUP_1_DIFFERENCES = {
    "status.unauthorized.wrong_token": (403, 401),
    "status.unauthorized.malformed_basic": (400, 401),
    "status.unauthorized.bearer": (401, 401),
    "status.not_found": (400, 404),
}
GROUP_2_DIFFERENCES = {
    "status.unsupported_media_type": (202, 415),
    "status.invalid_json": (400, 400),
}


def _lines(out: str) -> dict[str, str]:
    """Probe id -> its verdict text, from the result lines."""
    found = {}
    for line in out.splitlines():
        name, sep, rest = line.partition(": ")
        if sep and rest.split(":")[0] in ("matches", "differs", "error") and "." in name:
            found[name] = rest
    return found


def test_identical_standin_matches_everything(tmp_path: Path) -> None:
    """A stand-in that is the mock: every probe of both groups matches, exit 0; the record is
    valid against its contract."""
    record = tmp_path / "fidelity.json"
    with standin(differ=False) as real:
        code, out, err = qharness_text(
            "probe", real.trigger_url, "--allow-http-loopback", *CREDENTIALS, "--allow-runs",
            "--yes", "--record", str(record), env=ENV,
        )  # fmt: skip
    assert code == 0, out + err
    verdicts = _lines(out)
    assert len(verdicts) == 12
    assert set(verdicts.values()) == {"matches"}
    assert out.splitlines()[-1] == "probe matched: 12 matched, 0 differed, 0 errors, of 12 probes"
    document = json.loads(record.read_text(encoding="utf-8"))
    assert validator_for("fidelity-record").errors(document) == []


def test_differing_standin_every_difference_named_with_both_statuses(tmp_path: Path) -> None:
    """Six differences, each on its probe's line with the stand-in's status and the mock's;
    exit 1; the JSON report says the same."""
    report = tmp_path / "report.json"
    with standin(differ=True) as real:
        code, out, _ = qharness_text(
            "probe", real.trigger_url, "--allow-http-loopback", *CREDENTIALS, "--allow-runs",
            "--yes", "--json", str(report), env=ENV,
        )  # fmt: skip
    assert code == 1
    verdicts = _lines(out)
    expected = {**GROUP_1_DIFFERENCES, **GROUP_2_DIFFERENCES}
    for probe_id, (qualtrics, mock) in expected.items():
        assert verdicts[probe_id].startswith(f"differs: Qualtrics {qualtrics}, mock {mock}"), (
            probe_id,
            verdicts[probe_id],
        )
    assert (
        "WWW-Authenticate: Qualtrics 'Basic realm=\"Qualtrics\"', mock none"
        in (verdicts["status.unauthorized.bearer"])
    )
    assert "Content-Type: Qualtrics 'text/plain'" in verdicts["status.invalid_json"]
    assert (
        "errorCode: Qualtrics 'FORBIDDEN', mock 'AUTH_INVALID'"
        in (verdicts["status.unauthorized.wrong_token"])
    )
    others = set(verdicts) - set(expected)
    assert others
    assert all(verdicts[p] == "matches" for p in others)
    assert out.splitlines()[-1] == "probe differed: 6 matched, 6 differed, 0 errors, of 12 probes"
    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["verdict"] == "differs"
    assert document["counts"] == {"matches": 6, "differs": 6, "error": 0}


def test_no_run_starting_request_without_allow_runs(tmp_path: Path) -> None:
    """With credentials but no --allow-runs, the stand-in counts zero requests that could start
    a run (and makes no run); only the five no-run probes are sent."""
    with standin(differ=True) as real:
        code, out, _ = qharness_text(
            "probe", real.trigger_url, "--allow-http-loopback", *CREDENTIALS, "--yes", env=ENV
        )
        runs = real_runs(real.url)
        assert (real.run_starting, real.requests) == (0, 5)
    assert runs == []
    assert code == 1
    assert set(_lines(out)) == set(GROUP_1_DIFFERENCES) | {"status.unauthorized.no_credentials"}
    assert "--allow-runs sends them" in out


def real_runs(base: str) -> list[dict[str, object]]:
    admin = MockAdmin(base)
    try:
        return admin.all_runs()
    finally:
        admin.close()


def test_no_terminal_and_no_yes_sends_nothing() -> None:
    """Without a terminal and without --yes: the plan is printed, nothing is sent, exit 2."""
    with standin(differ=True) as real:
        code, out, err = qharness_text(
            "probe", real.trigger_url, "--allow-http-loopback", *CREDENTIALS, "--allow-runs",
            env=ENV,
        )  # fmt: skip
        assert real.requests == 0
    assert code == 2
    assert "total: 12 probes, at most 111 requests to Qualtrics" in out
    assert err.strip().splitlines() == [
        "error: nothing sent: no terminal to confirm on; read the plan above and pass --yes to"
        " send it"
    ]


def test_without_credentials_only_probes_needing_none_run() -> None:
    """No --username/--token-env: the five probes that need no credentials, and it says so."""
    with standin(differ=False) as real:
        code, out, _ = qharness_text(
            "probe", real.trigger_url, "--allow-http-loopback", "--allow-runs", "--yes"
        )
        assert real.run_starting == 0
    assert code == 0
    assert len(_lines(out)) == 5
    assert "only the probes that need no credentials run" in out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ("https://example.com/inbound-event/v1/events/json/triggers?urlTokenId=" + URL_TOKEN,),
            None,
            "is not a Qualtrics data-center host",
        ),
        (
            (f"http://127.0.0.1:1/inbound-event/v1/events/json/triggers?urlTokenId={URL_TOKEN}",),
            None,
            "must use https",
        ),
        (
            ("https://iad1.qualtrics.com/inbound-event/v1/events/json/triggers",),
            None,
            "must carry one urlTokenId",
        ),
        (
            (
                f"https://iad1.qualtrics.com/x?urlTokenId={URL_TOKEN}",
                "--username",
                USERNAME,
            ),
            None,
            "--username and --token-env go together",
        ),
        (
            (f"https://iad1.qualtrics.com/x?urlTokenId={URL_TOKEN}", *CREDENTIALS),
            {"QH_PROBE_TOKEN": None},
            "QH_PROBE_TOKEN: the environment variable is unset",
        ),
        (
            (f"https://iad1.qualtrics.com/x?urlTokenId={URL_TOKEN}", "--record", "/nonexistent/r"),
            None,
            "--record '/nonexistent/r': its directory '/nonexistent' does not exist",
        ),
    ],
)
def test_usage_errors_are_one_line_exit_2(
    args: tuple[str, ...], env: dict[str, str | None] | None, message: str
) -> None:
    """A non-Qualtrics host, plain http without the flag, no urlTokenId, half the credentials,
    an unset token variable: one line, exit 2, nothing sent."""
    code, out, err = qharness_text("probe", *args, "--yes", env=env)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert message in err
    assert URL_TOKEN not in out + err


def test_unreachable_url_is_one_line_exit_2() -> None:
    """Nothing listens there: one line naming the host, exit 2."""
    url = f"http://127.0.0.1:{_free_port()}/inbound-event/v1/events/json/triggers?urlTokenId={URL_TOKEN}"
    code, out, err = qharness_text("probe", url, "--allow-http-loopback", "--yes")
    assert code == 2
    assert err.strip().splitlines() == [err.strip()]
    assert "cannot reach 127.0.0.1:" in err
    assert URL_TOKEN not in out + err


def test_no_secret_in_output_or_files(tmp_path: Path) -> None:
    """Neither the token nor the urlTokenId appears in output, the record or the report (the
    stand-in echoes nothing, but the plan, lines and files all name the trigger)."""
    record, report = tmp_path / "r.json", tmp_path / "j.json"
    with standin(differ=True) as real:
        code, out, err = qharness_text(
            "probe", real.trigger_url, "--allow-http-loopback", *CREDENTIALS, "--allow-runs",
            "--yes", "--record", str(record), "--json", str(report), env=ENV,
        )  # fmt: skip
    assert code == 1
    text = out + err + record.read_text(encoding="utf-8") + report.read_text(encoding="utf-8")
    for secret in (PASSWORD, URL_TOKEN, URL_TOKEN.upper()):
        assert secret not in text
    assert record.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(("answer", "code", "sent"), [("n", 2, 0), ("y", 1, 5)])
def test_terminal_confirmation(answer: str, code: int, sent: int) -> None:
    """On a terminal the command asks: "n" sends nothing (exit 2); "y" sends the plan."""
    master, slave = pty.openpty()
    with standin(differ=True) as real:
        process = subprocess.Popen(
            [*QHARNESS, "probe", real.trigger_url, "--allow-http-loopback", *CREDENTIALS],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment(ENV),
        )
        os.close(slave)
        os.write(master, f"{answer}\n".encode())
        out, err = process.communicate(timeout=120)
        os.close(master)
        assert real.requests == sent
    assert process.returncode == code, err
    assert b"send these 5 requests to Qualtrics? [y/N]" in out
    if answer == "n":
        assert err.decode().strip() == "error: nothing sent: not confirmed"
