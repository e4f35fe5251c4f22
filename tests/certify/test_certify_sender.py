"""``qharness certify-sender``: real senders (the examples, curl, our own connector) against the
real mock over 127.0.0.1, graded on what arrived.

The default scenario's Retry-After waits cost real seconds, so each sender runs once per module
(fixtures) and several tests read its result.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from support.paths import EXAMPLES

from connector.activation import Activation
from connector.certify.checks import SENDER_CHECKS
from connector.certify.reports import write_report
from connector.certify.sender import SenderCertification, certify_sender, load_scenario
from connector.cli._common import load_or_bundled
from connector.cli.certify_sender import _activation_bytes as activation_bytes

SENDERS = EXAMPLES / "senders"
BIN = str(Path(sys.executable).parent)
PROFILES = 8
#: The documented one-liner: our own connector as a sender.
ONE_LINER = 'qharness send "$QHARNESS_ACTIVATION" "$QHARNESS_PROFILES" --allow-http-loopback'
#: A scenario with one 429 (Retry-After: 2) on the first request: a sender that ignores it shows.
ONE_429 = '[[faults]]\nname = "429"\nat = [0.0, 0.0]\nstatus = 429\nretry_after = 2\n'


@pytest.fixture(scope="module")
def bundled_activation() -> Activation:
    return load_or_bundled(None)


@pytest.fixture(scope="module", autouse=True)
def qharness_on_path() -> Iterator[None]:
    """Senders that call ``qharness`` (curl's renderer, our connector) find this one."""
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{BIN}{os.pathsep}{old}"
    yield
    os.environ["PATH"] = old


def run(
    activation: Activation,
    command: Sequence[str],
    *,
    scenario: Path | None = None,
    profiles: int = PROFILES,
    seed: int = 11,
    timeout: float = 120,
    cwd: Path | None = None,
) -> SenderCertification:
    out = io.StringIO()
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return certify_sender(
            activation,
            activation_bytes(None),
            command,
            scenario=load_scenario(scenario),
            profiles=profiles,
            seed=seed,
            timeout=timeout,
            stdout=out,
            stderr=out,
        )
    finally:
        os.chdir(old)


def verdicts(result: SenderCertification) -> dict[str, bool]:
    return {check.name: check.passed for check in result.checks}


def check(result: SenderCertification, name: str) -> str:
    found = next(c for c in result.checks if c.name == name)
    return found.full_evidence()


@pytest.fixture(scope="module")
def well_behaved(bundled_activation: Activation) -> SenderCertification:
    return run(bundled_activation, [sys.executable, str(SENDERS / "well_behaved.py")])


@pytest.fixture(scope="module")
def naive(bundled_activation: Activation) -> SenderCertification:
    return run(bundled_activation, [sys.executable, str(SENDERS / "naive.py")])


@pytest.fixture(scope="module")
def connector_send(
    bundled_activation: Activation, tmp_path_factory: pytest.TempPathFactory
) -> SenderCertification:
    return run(
        bundled_activation, ["sh", "-c", ONE_LINER], cwd=tmp_path_factory.mktemp("connector")
    )


def test_well_behaved_sender_passes_every_check(well_behaved: SenderCertification) -> None:
    """The example that retries with Retry-After passes; the summary line says so."""
    assert [c.name for c in well_behaved.checks] == list(SENDER_CHECKS)
    assert all(verdicts(well_behaved).values()), [
        c.full_evidence() for c in well_behaved.checks if not c.passed
    ]
    assert well_behaved.summary == f"certification passed: {len(SENDER_CHECKS)} passed, 0 failed"


def test_evidence_names_retry_timing_and_the_lost_answer(well_behaved: SenderCertification) -> None:
    """Retry-After honoured is shown with its timing; the lost answer's second run is reported."""
    assert "after a 429 with Retry-After: 2" in check(well_behaved, "sender.retry-after")
    duplicates = check(well_behaved, "sender.no-duplicates")
    assert "2 runs" in duplicates
    assert "reported, not failed" in duplicates
    outcomes = [row["outcome"] for row in well_behaved.timeline]
    assert "connection dropped before processing" in outcomes
    assert any(o.startswith("run recorded, answer lost") for o in outcomes)
    assert any(o.startswith("answered 429 (Retry-After: 2)") for o in outcomes)


def test_reports_hold_scenario_command_and_timeline_without_secrets(
    well_behaved: SenderCertification, tmp_path: Path
) -> None:
    """JUnit, Markdown, HTML and JSON name the scenario, seed, command and every request."""
    paths = {kind: tmp_path / f"r.{kind}" for kind in ("junit", "json", "markdown", "html")}
    for kind, path in paths.items():
        write_report(well_behaved, path, kind)
    report = json.loads(paths["json"].read_text())
    assert report["verdict"] == "passed"
    assert report["seed"] == 11
    assert len(report["timeline"]) == len(well_behaved.timeline) > PROFILES
    assert [f["name"] for f in report["scenario"]["faults"]][1] == "429 with Retry-After: 2"
    assert "well_behaved.py" in report["sender_command"]
    cases = {c.get("name") for c in ET.parse(paths["junit"]).iter("testcase")}  # noqa: S314
    assert cases == set(SENDER_CHECKS)
    suite = ET.parse(paths["junit"]).find("testsuite")  # noqa: S314
    assert suite is not None
    assert suite.get("name") == "qharness certify-sender"
    markdown = paths["markdown"].read_text()
    assert markdown.startswith("# Sender certification for Post-purchase CSAT: PASSED")
    assert "## Timeline of every trigger request" in markdown
    assert "## Fault scenario" in markdown
    everything = "".join(p.read_text() for p in paths.values())
    assert "urlTokenId=" not in everything.replace("urlTokenId=***", "")


def test_naive_sender_fails_complete_naming_lost_events(naive: SenderCertification) -> None:
    """No retries: the faulted events are lost, each named with the answer it got."""
    assert verdicts(naive) == {name: name != "sender.complete" for name in SENDER_CHECKS}
    evidence = check(naive, "sender.complete")
    assert "lost); first: event for " in evidence
    assert ": no run (1 attempt(s); the last, request #" in evidence
    assert "answered 503" in evidence
    assert "answered 429 (Retry-After: 2)" in evidence
    assert "connection dropped before processing" in evidence
    assert "was not retried" in check(naive, "sender.retry-after")


def test_our_connector_passes_as_a_sender(connector_send: SenderCertification) -> None:
    """`qharness send "$QHARNESS_ACTIVATION" "$QHARNESS_PROFILES" --allow-http-loopback` passes."""
    assert all(verdicts(connector_send).values()), [
        c.full_evidence() for c in connector_send.checks if not c.passed
    ]
    assert "reported, not failed" in check(connector_send, "sender.no-duplicates")
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    assert f"qharness certify-sender -- sh -c '{ONE_LINER}'" in readme


def test_curl_retry_loses_the_dropped_connection(bundled_activation: Activation) -> None:
    """curl --retry honours Retry-After but does not retry an empty reply: one event lost."""
    if shutil.which("curl") is None:
        if os.environ.get("CI"):  # .ci/run installs curl: a CI run without it is a broken CI
            pytest.fail("CI is set but curl is not installed")
        pytest.skip("curl is not installed")
    result = run(bundled_activation, ["sh", str(SENDERS / "curl_sender.sh")])
    assert verdicts(result) == {
        name: name not in ("sender.exit", "sender.complete") for name in SENDER_CHECKS
    }
    assert "connection dropped before processing" in check(result, "sender.complete")
    assert "Empty reply from server" in check(result, "sender.exit")
    assert "after a 429 with Retry-After: 2" in check(result, "sender.retry-after")


BAD_SENDER = """
import base64, json, os, sys, urllib.error, urllib.request
sys.path.insert(0, {senders!r})
from well_behaved import render
url = os.environ["QHARNESS_TRIGGER_URL"]
token = os.environ["QHARNESS_API_TOKEN"]
basic = base64.b64encode(f"{{os.environ['QHARNESS_USERNAME']}}:{{token}}".encode()).decode()

def post(body, where):
    request = urllib.request.Request(where, data=body, method="POST", headers={{
        "Content-Type": "application/json", "Authorization": "Basic " + basic}})
    try:
        urllib.request.urlopen(request, timeout=10).read()
    except urllib.error.HTTPError:
        urllib.request.urlopen(request, timeout=10).read()  # at once, Retry-After or not

for number, line in enumerate(open(os.environ["QHARNESS_PROFILES"])):
    payload = render(json.loads(line))
    if number == 0:
        payload["person"]["name"]["firstName"] = "changed"  # one attribute changed
    body = json.dumps(payload, indent=1, sort_keys=True).encode()  # order/spacing: no matter
    post(body, url + ("&apiToken=" + token if number == 1 else ""))
    if number == 2:
        post(body, url)  # sent twice, no lost answer to excuse it
"""


@pytest.fixture(scope="module")
def bad(
    bundled_activation: Activation, tmp_path_factory: pytest.TempPathFactory
) -> SenderCertification:
    where = tmp_path_factory.mktemp("bad")
    (where / "bad.py").write_text(BAD_SENDER.format(senders=str(SENDERS)))
    (where / "one429.toml").write_text(ONE_429)
    return run(
        bundled_activation,
        [sys.executable, str(where / "bad.py")],
        scenario=where / "one429.toml",
        profiles=4,
    )


def test_a_changed_attribute_is_named(bad: SenderCertification) -> None:
    """The failure names the field, what arrived and what was expected."""
    evidence = check(bad, "sender.values-unchanged")
    assert not verdicts(bad)["sender.values-unchanged"]
    assert "`person.name.firstName` arrived as" in evidence
    assert "(expected" in evidence
    assert evidence.count("arrived as") == 1, "key order and spacing are not changes"


def test_token_in_url_duplicate_and_early_retry_fail(bad: SenderCertification) -> None:
    """The token in the URL, an unexcused second run, a retry before Retry-After: each named."""
    assert verdicts(bad) == {
        "sender.exit": True,
        "sender.auth": False,
        "sender.contract-valid": True,
        "sender.values-unchanged": False,
        "sender.complete": True,
        "sender.no-duplicates": False,
        "sender.retry-after": False,
    }
    assert "1 request(s) carried the API token in the URL" in check(bad, "sender.auth")
    assert "2 runs" in check(bad, "sender.no-duplicates")
    assert "after a 429 with Retry-After: 2" in check(bad, "sender.retry-after")
    assert check(bad, "sender.retry-after").startswith("retried ")


FLOOD_SENDER = """
import base64, json, os, sys
from concurrent.futures import ThreadPoolExecutor
sys.path.insert(0, {senders!r})
from well_behaved import post, render
url = os.environ["QHARNESS_TRIGGER_URL"]
user, token = os.environ["QHARNESS_USERNAME"], os.environ["QHARNESS_API_TOKEN"]
auth = base64.b64encode(f"{{user}}:{{token}}".encode()).decode()
bodies = [json.dumps(render(json.loads(line))).encode() for line in open(os.environ["QHARNESS_PROFILES"])]
with ThreadPoolExecutor(24) as pool:  # more connections than the mock has threads
    list(pool.map(lambda body: post(url, auth, body), bodies))
"""


def test_a_sender_with_many_connections_is_served_and_faulted(
    bundled_activation: Activation, tmp_path: Path
) -> None:
    """24 connections at once: each served in turn, the fault lands once, nothing is lost."""
    (tmp_path / "flood.py").write_text(FLOOD_SENDER.format(senders=str(SENDERS)))
    (tmp_path / "s.toml").write_text("[[faults]]\nat = [0.0, 0.0]\nstatus = 503\n")
    result = run(
        bundled_activation,
        [sys.executable, str(tmp_path / "flood.py")],
        scenario=tmp_path / "s.toml",
        profiles=30,
        timeout=60,
    )
    assert all(verdicts(result).values()), [c.full_evidence() for c in result.checks]
    assert [row["outcome"] for row in result.timeline].count("answered 503") == 1


def test_runs_failed_by_the_workflow_are_blamed_on_the_activation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A required field nothing feeds fails every run: one line says so, naming the field."""
    monkeypatch.chdir(tmp_path)  # qharness send's outbox lands here
    (tmp_path / "quiet.toml").write_text('name = "no faults"\n')
    partner = EXAMPLES / "partner-activation.toml"
    result = certify_sender(
        load_or_bundled(str(partner)),
        partner.read_bytes(),
        ["sh", "-c", ONE_LINER],
        scenario=load_scenario(tmp_path / "quiet.toml"),
        profiles=3,
        seed=2,
        timeout=60,
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    evidence = check(result, "sender.complete")
    assert evidence.startswith(
        "3 of 3 events without a Succeeded run (3 arrived but their run failed); first: 3 event(s) "
        "arrived but their run Failed"
    )
    assert "'order_id' ($.order.id)" in evidence
    assert "check the activation with qharness certify" in evidence


def test_an_outage_answers_every_request_for_its_duration(
    bundled_activation: Activation, tmp_path: Path
) -> None:
    """duration_s: every request inside the window is faulted; a sender that keeps trying passes."""
    (tmp_path / "s.toml").write_text(
        '[[faults]]\nname = "outage"\nat = [0.0, 0.0]\nstatus = 503\nduration_s = 1.0\n'
    )
    result = run(
        bundled_activation,
        [sys.executable, str(SENDERS / "well_behaved.py")],
        scenario=tmp_path / "s.toml",
        profiles=3,
    )
    assert all(verdicts(result).values()), [c.full_evidence() for c in result.checks]
    faulted = [row for row in result.timeline if row["fault"] == "outage"]
    assert len(faulted) >= 2
    assert {row["outcome"] for row in faulted} == {"answered 503"}
    assert result.timeline[len(faulted)]["outcome"] == "answered 202"
