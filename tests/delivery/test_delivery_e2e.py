"""End to end over 127.0.0.1 against the real mock: faults, wrong credentials, the CLI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
from support.activations import activation_with_url
from support.cli import QHARNESS, qharness, qharness_process
from support.destination import TOKEN, workflow
from support.profiles import profiles
from support.runs import assert_at_least_once, assert_exactly_once

from connector.activation import Activation
from connector.delivery import Backoff, DeliveryOptions, DeliveryReport, deliver
from connector.errors import AuthRejected
from connector.plugin import MockQualtrics


def send(
    activation: Activation, state_dir: Path, url: str, items: list[Any], **options: Any
) -> DeliveryReport:
    token = options.pop("token", TOKEN)
    options.setdefault("backoff", Backoff(base=0.01, cap=0.05))
    options.setdefault("rate_limit", None)
    return deliver(
        activation,
        items,
        token=token,
        state_dir=state_dir,
        options=DeliveryOptions(url=url, allow_http_loopback=True, **options),
    )


def test_every_event_becomes_one_run(
    mock_qualtrics: MockQualtrics, activation: Activation, state_dir: Path
) -> None:
    """A clean delivery: one Succeeded run per event, fields extracted."""
    flow = workflow(mock_qualtrics)
    items = profiles(25)
    report = send(activation, state_dir, flow["trigger_url"], items)
    assert report.delivered == 25
    assert report.ok
    assert_exactly_once(mock_qualtrics, flow["id"], items)
    assert send(activation, state_dir, flow["trigger_url"], items).duplicates_skipped == 25


def test_429_with_retry_after_and_503_are_retried_without_loss_or_duplicates(
    mock_qualtrics: MockQualtrics, activation: Activation, state_dir: Path
) -> None:
    """Injected 429 (Retry-After: 1) and 503 are retried; no loss, no duplicate run."""
    flow = workflow(mock_qualtrics)
    mock_qualtrics.inject_fault(status=429, retry_after=1, count=2)
    mock_qualtrics.inject_fault(status=503, count=3)
    items = profiles(15)
    report = send(activation, state_dir, flow["trigger_url"], items)
    assert report.delivered == 15
    assert report.retries >= 5
    assert_exactly_once(mock_qualtrics, flow["id"], items)


def test_lost_responses_are_resent_and_counted(
    mock_qualtrics: MockQualtrics, activation: Activation, state_dir: Path
) -> None:
    """A response lost after the mock handled the request: the resend is counted, and is the
    only source of a second run (which a faithful mock marks ``duplicate_of``)."""
    flow = workflow(mock_qualtrics)
    mock_qualtrics.inject_fault(drop_connection=True, count=3)
    items = profiles(10)
    report = send(activation, state_dir, flow["trigger_url"], items)
    assert report.delivered == 10
    assert report.unknown_outcome_resends == 3
    assert_at_least_once(mock_qualtrics, flow["id"], items, resends=3)
    deduplicated = [e for e in mock_qualtrics.events() if e["outcome"] == "duplicate"]
    runs = mock_qualtrics.runs(flow["id"], wait_for=13 - len(deduplicated), timeout=10)
    assert len(runs) - 10 + len(deduplicated) == 3, "each lost response's resend arrived once"


@pytest.mark.mock_qualtrics(extensions={"idempotency_keys": True})
def test_with_the_idempotency_extension_lost_responses_make_no_second_run(
    mock_qualtrics: MockQualtrics, activation: Activation, state_dir: Path
) -> None:
    """The same lost responses against a mock with the idempotency-keys extension: the resends
    carry the first request's Idempotency-Key, so the mock makes exactly one run per event."""
    flow = workflow(mock_qualtrics)
    mock_qualtrics.inject_fault(drop_connection=True, count=3)
    items = profiles(10)
    report = send(activation, state_dir, flow["trigger_url"], items)
    assert report.delivered == 10
    assert report.unknown_outcome_resends == 3
    assert_exactly_once(mock_qualtrics, flow["id"], items)


def test_wrong_token_is_401_and_no_run(
    mock_qualtrics: MockQualtrics, activation: Activation, state_dir: Path
) -> None:
    """Wrong credentials: AuthRejected(401), no run, every event kept for the next run."""
    flow = workflow(mock_qualtrics)
    items = profiles(5)
    with pytest.raises(AuthRejected) as caught:
        send(activation, state_dir, flow["trigger_url"], items, token="wrong-token")
    assert caught.value.status_code == 401
    assert mock_qualtrics.runs(flow["id"]) == []
    assert {e["outcome"] for e in mock_qualtrics.events()} == {"unauthorized"}
    report = send(activation, state_dir, flow["trigger_url"], [])
    assert report.delivered == 5
    assert_exactly_once(mock_qualtrics, flow["id"], items)


def test_cli_send_over_loopback(mock_qualtrics: MockQualtrics, tmp_path: Path) -> None:
    """`qharness send ... --allow-http-loopback` with the token in the environment only."""
    flow = workflow(mock_qualtrics)
    activation = activation_with_url(tmp_path, flow["trigger_url"])
    items = profiles(12)
    data = tmp_path / "profiles.jsonl"
    data.write_bytes(b"".join(orjson.dumps(p) + b"\n" for p in items))
    report = tmp_path / "report.json"
    env = {"QUALTRICS_API_TOKEN": TOKEN}
    args = ["send", str(activation), str(data), "--state", str(tmp_path / "state")]
    # The subprocess smoke test of `send`: the real interpreter start, argv and environment.
    result = qharness_process(*args, "--allow-http-loopback", "--report-json", str(report), env=env)
    assert result.returncode == 0, result.stderr.decode()
    assert orjson.loads(report.read_bytes())["identities_activated"] == 12
    url_token = flow["urlTokenId"]
    for text in (result.stdout, result.stderr, report.read_bytes()):
        assert TOKEN.encode() not in text
        assert url_token.encode() not in text
    assert_exactly_once(mock_qualtrics, flow["id"], items)
    # Without the flag the same command is refused before anything is sent.
    refused = qharness(*args, env=env)
    assert refused.returncode == 2
    assert url_token.encode() not in refused.stderr


def test_cli_send_streams_stdin_as_lines_arrive(
    mock_qualtrics: MockQualtrics, tmp_path: Path
) -> None:
    """Behind a pipe (as behind `tail -f`), each line is sent before the input ends."""
    flow = workflow(mock_qualtrics)
    activation = activation_with_url(tmp_path, flow["trigger_url"])
    items = profiles(5, seed=3)
    # A subprocess: the test keeps the stdin pipe open between lines.
    command = [*QHARNESS, "send", str(activation), "-", "--state", str(tmp_path / "s")]
    process = subprocess.Popen(
        [*command, "--allow-http-loopback"],
        env={**os.environ, "QUALTRICS_API_TOKEN": TOKEN},
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None
    try:
        for item in items[:3]:
            process.stdin.write(orjson.dumps(item) + b"\n")
            process.stdin.flush()
        assert len(mock_qualtrics.runs(flow["id"], wait_for=3, timeout=20)) == 3
        assert process.poll() is None  # still waiting for more input
        for item in items[3:]:
            process.stdin.write(orjson.dumps(item) + b"\n")
        process.stdin.close()
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert_exactly_once(mock_qualtrics, flow["id"], items)


def test_cli_test_destination_against_the_mock(
    mock_qualtrics: MockQualtrics, tmp_path: Path
) -> None:
    """`qharness test-destination` sends 3 sample profiles: 3 runs, 202s, secrets redacted."""
    flow = workflow(mock_qualtrics)
    activation = activation_with_url(tmp_path, flow["trigger_url"])
    result = qharness(
        "test-destination",
        str(activation),
        "--allow-http-loopback",
        env={"QUALTRICS_API_TOKEN": TOKEN},
    )
    assert result.returncode == 0, result.stderr.decode()
    assert TOKEN.encode() not in result.stdout
    assert flow["urlTokenId"].encode() not in result.stdout
    document = orjson.loads(result.stdout)
    codes = [r["httpCalls"][0]["response"]["code"] for r in document["results"]]
    assert codes == [202, 202, 202]
    assert len(mock_qualtrics.runs(flow["id"], wait_for=3)) == 3
