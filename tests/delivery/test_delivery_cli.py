"""``qharness send`` and ``qharness test-destination`` in process, HTTP through respx."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import httpx
import orjson
import pytest
import respx
from support.activations import activation_with_url
from support.delivery import REPORT_KEYS
from support.destination import TOKEN, TRIGGER, URL_TOKEN_ID
from support.paths import EXAMPLE
from support.profiles import jsonl, profile, profiles

from connector.cli import main
from connector.cli.send import DEFAULT_STATE_DIR


@pytest.fixture
def env_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN)


@pytest.fixture
def trigger(respx_mock: respx.MockRouter) -> respx.Route:
    return respx_mock.post(url__startswith=TRIGGER)


@pytest.mark.parametrize("value", [None, "", "  "])
def test_send_without_token_is_a_usage_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    value: str | None,
) -> None:
    """An unset or empty token variable: exit 2, naming the variable."""
    if value is None:
        monkeypatch.delenv("QUALTRICS_API_TOKEN", raising=False)
    else:
        monkeypatch.setenv("QUALTRICS_API_TOKEN", value)
    data = jsonl(tmp_path / "p.jsonl", profiles(1))
    assert main(["send", str(EXAMPLE), str(data), "--state", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "QUALTRICS_API_TOKEN" in err
    assert err.startswith("error: ")


@pytest.mark.parametrize("command", ["send", "test-destination"])
def test_refused_url_is_a_usage_error(
    tmp_path: Path, env_token: None, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """Plain http without the flag: exit 2, message without the urlTokenId."""
    activation = activation_with_url(tmp_path, f"http://127.0.0.1:9/t?urlTokenId={URL_TOKEN_ID}")
    data = jsonl(tmp_path / "p.jsonl", profiles(1))
    assert main([command, str(activation), str(data)]) == 2
    err = capsys.readouterr().err
    assert "--allow-http-loopback" in err
    assert URL_TOKEN_ID not in err


def test_send_delivers_writes_the_report_and_reruns_clean(
    tmp_path: Path, env_token: None, trigger: respx.Route, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 0, a report with exactly the documented keys; a re-run sends nothing and exits 0."""
    trigger.mock(return_value=httpx.Response(202))
    data = jsonl(tmp_path / "p.jsonl", profiles(6))
    report_path = tmp_path / "report.json"
    args = ["send", str(EXAMPLE), str(data), "--state", str(tmp_path / "s"), "--rate", "0"]
    assert main([*args, "--report-json", str(report_path)]) == 0
    report = orjson.loads(report_path.read_bytes())
    assert list(report) == REPORT_KEYS
    assert report["identities_activated"] == 6
    assert main([*args, "--report-json", str(report_path)]) == 0
    again = orjson.loads(report_path.read_bytes())
    assert again["duplicates_skipped"] == 6
    assert trigger.call_count == 6
    out, err = capsys.readouterr()
    for text in (out, err, report_path.read_text()):
        assert TOKEN not in text
        assert URL_TOKEN_ID not in text
    assert "alert: start" in err
    assert "alert: success" in err


def test_send_reads_stdin(
    tmp_path: Path, env_token: None, trigger: respx.Route, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PROFILES '-' reads JSON Lines from stdin."""
    trigger.mock(return_value=httpx.Response(202))
    lines = b"".join(orjson.dumps(p) + b"\n" for p in profiles(3)) + b"not json\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines)))
    report_path = tmp_path / "r.json"
    code = main(
        [
            "send",
            str(EXAMPLE),
            "-",
            "--state",
            str(tmp_path / "s"),
            "--report-json",
            str(report_path),
        ]
    )
    assert code == 1  # an input error fails the run unless --accept-input-errors
    report = orjson.loads(report_path.read_bytes())
    assert report["profiles_received"] == 4
    assert report["excluded"] == {}
    assert report["input_errors"] == 1
    assert trigger.call_count == 3


def test_send_stops_on_401_and_keeps_the_report(
    tmp_path: Path, env_token: None, trigger: respx.Route, capsys: pytest.CaptureFixture[str]
) -> None:
    """401: exit 1, a clear message, the report still written."""
    trigger.mock(return_value=httpx.Response(401))
    data = jsonl(tmp_path / "p.jsonl", profiles(3))
    report_path = tmp_path / "r.json"
    args = ["send", str(EXAMPLE), str(data), "--state", str(tmp_path / "s")]
    assert main([*args, "--report-json", str(report_path)]) == 1
    err = capsys.readouterr().err
    assert "401" in err
    assert "every event kept" in err
    assert orjson.loads(report_path.read_bytes())["failed"] == {"http-401": 1}


def test_send_permanent_failure_exits_1(
    tmp_path: Path, env_token: None, trigger: respx.Route
) -> None:
    """A dead-lettered event fails the run."""
    trigger.mock(return_value=httpx.Response(400))
    data = jsonl(tmp_path / "p.jsonl", profiles(1))
    assert main(["send", str(EXAMPLE), str(data), "--state", str(tmp_path / "s")]) == 1


def test_max_skip_rate_only_with_the_flag(
    tmp_path: Path, env_token: None, trigger: respx.Route
) -> None:
    """Without --max-skip-rate a high skip rate alerts only; with it, exit 1."""
    trigger.mock(return_value=httpx.Response(202))
    data = jsonl(tmp_path / "p.jsonl", [profile("a" * 64), profile("ok@example.com")])
    assert main(["send", str(EXAMPLE), str(data), "--state", str(tmp_path / "a")]) == 0
    args = [
        "send",
        str(EXAMPLE),
        str(data),
        "--state",
        str(tmp_path / "b"),
        "--max-skip-rate",
        "0.2",
    ]
    assert main(args) == 1


def test_default_state_dir_is_in_the_cwd(
    tmp_path: Path, env_token: None, trigger: respx.Route, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --state the outbox lives in ./.qharness-state."""
    trigger.mock(return_value=httpx.Response(202))
    monkeypatch.chdir(tmp_path)
    data = jsonl(tmp_path / "p.jsonl", profiles(1))
    assert main(["send", str(EXAMPLE), str(data)]) == 0
    assert any((tmp_path / DEFAULT_STATE_DIR).glob("outbox-*.sqlite"))


def test_test_destination_prints_adobes_shape_redacted(
    env_token: None, trigger: respx.Route, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sample profiles, one call each, Adobe's result shape, secrets redacted."""
    trigger.mock(return_value=httpx.Response(202, json={"meta": {"requestId": "r1"}}))
    assert main(["test-destination", str(EXAMPLE), "--count", "2"]) == 0
    out = capsys.readouterr().out
    assert TOKEN not in out
    assert URL_TOKEN_ID not in out
    document = orjson.loads(out)
    assert set(document) == {"results", "inputProfiles"}
    assert len(document["inputProfiles"]) == 2
    assert len(document["results"]) == 2
    call = document["results"][0]["httpCalls"][0]
    assert set(call) == {"traceId", "request", "response"}
    assert set(call["request"]) == {"body", "headers", "method", "uri"}
    assert set(call["response"]) == {"body", "code", "headers"}
    assert call["request"]["headers"]["Authorization"] == "Basic ***"
    assert call["request"]["method"] == "POST"
    assert "urlTokenId=***" in call["request"]["uri"]
    assert call["response"]["code"] == 202
    assert call["response"]["body"] == {"meta": {"requestId": "r1"}}
    # A test never uses the event's real id, so it cannot suppress a later real send.
    keys = [c.request.headers["Idempotency-Key"] for c in trigger.calls]
    assert all(key.startswith("test-") for key in keys)


def test_test_destination_with_profiles_and_a_rejection(
    tmp_path: Path, env_token: None, trigger: respx.Route, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given profiles are used; a 401 shows in the result and exits 1."""
    trigger.mock(return_value=httpx.Response(401, text=f"bad token {TOKEN}"))
    data = jsonl(tmp_path / "p.jsonl", [profile("a@example.com"), profile("b" * 64)])
    assert main(["test-destination", str(EXAMPLE), str(data)]) == 1
    captured = capsys.readouterr()
    document = orjson.loads(captured.out)
    assert len(document["results"]) == 1
    assert document["results"][0]["httpCalls"][0]["response"]["code"] == 401
    assert TOKEN not in captured.out
    assert "hashed-email" in captured.err
