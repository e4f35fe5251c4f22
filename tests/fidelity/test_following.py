"""The mock following a fidelity record: ``mock serve --fidelity``, ``[fidelity]``, the marker,
``certify``/``certify-sender --fidelity``, and records that are not records."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.cli import qharness_text
from support.served import serve
from support.standin import PASSWORD, URL_TOKEN, USERNAME, mock_settings, standin

import contracts
from connector.delivery.auth import QualtricsBasicAuth
from connector.delivery.client import make_client
from connector.fidelity import Limits, plan, run_probes
from connector.fidelity.record import record_document
from connector.fidelity.run import Target
from mock_qualtrics import LiveMock
from mock_qualtrics.fidelity import CASES, load_record

EXAMPLE = (
    Path(contracts.__file__).parent / "examples" / "fidelity-record" / "valid" / "differs.json"
)
TRIGGER = "/inbound-event/v1/events/json/triggers?urlTokenId="
#: The rate limit's bucket drains at 3,000 calls an hour, not a minute, on both sides of each
#: comparison: a burst then meets its 429 after the bucket's size whatever the machine's speed
#: (at 50 a second, a mock slowed by a loaded machine drained as fast as the burst filled it).
SLOW_LEAK: dict[str, Any] = {"RATE_WINDOW": 3600.0}
WORKFLOWS = f"""
[[users]]
username = "{USERNAME}"
api_token = "{PASSWORD}"

[[workflows]]
id = "SV_standin"
name = "probe test copy"
owner = "{USERNAME}"
url_token_id = "{URL_TOKEN}"
[[workflows.fields]]
name = "email"
jsonpath = "$.identityMap.Email[0].id"
required = true

[limits]
rate_window = {SLOW_LEAK["RATE_WINDOW"]}
"""


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A record of every probe against the stand-in that differs from the mock in six ways."""
    path = tmp_path_factory.mktemp("fidelity") / "fidelity.json"
    with standin(differ=True, **SLOW_LEAK) as real:
        code, _, err = qharness_text(
            "probe", real.trigger_url, "--allow-http-loopback", "--username", USERNAME,
            "--token-env", "T", "--allow-runs", "--yes", "--record", str(path),
            env={"T": PASSWORD},
        )  # fmt: skip
    assert code == 1, err
    return path


def _compare(real_url: str, follower_url: str) -> list[str]:
    """Every probe to the stand-in and to the following mock; the lines that do not match."""
    auth = QualtricsBasicAuth(USERNAME, PASSWORD)
    probes = plan(Limits(), credentials=True, allow_runs=True)
    with make_client(auth) as one, make_client(auth) as two:
        real = Target(real_url, one, auth, USERNAME)
        follower = Target(follower_url, two, auth, USERNAME)
        outcomes = list(run_probes(probes, real, follower, str(uuid.uuid4())))
    assert len(outcomes) == len(probes) == len(CASES)
    return [o.line() for o in outcomes if o.verdict != "matches"]


@pytest.fixture
def served(tmp_path: Path, record: Path) -> Iterator[str]:
    workflows = tmp_path / "workflows.toml"
    workflows.write_text(WORKFLOWS, encoding="utf-8")
    process, url = serve("--workflows", str(workflows), "--fidelity", str(record))
    try:
        yield url
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_mock_serve_fidelity_answers_like_the_standin(served: str) -> None:
    """`qharness mock serve --fidelity F` answers every probed case as the stand-in does (status,
    envelope, errorCode, Content-Type, WWW-Authenticate, Retry-After), and still 202s a valid
    call with a run."""
    with standin(differ=True, **SLOW_LEAK) as real:
        assert _compare(real.trigger_url, served + TRIGGER + URL_TOKEN) == []
    # The burst filled the bucket, which drains slowly here: forget it (and the history).
    httpx.post(f"{served}/__admin/reset", json={}, timeout=10).raise_for_status()
    body = {"identityMap": {"Email": [{"id": "a@example.com"}]}}
    answer = httpx.post(
        served + TRIGGER + URL_TOKEN, json=body, auth=(USERNAME, PASSWORD), timeout=10
    )
    assert answer.status_code == 202
    assert answer.json()["meta"]["httpStatus"] == "202 - Accepted"
    runs = httpx.get(f"{served}/__admin/runs", params={"limit": 1000}, timeout=10).json()["runs"]
    assert any(r["requestId"] == answer.json()["meta"]["requestId"] for r in runs)


def test_the_faithful_mock_does_not_answer_like_the_standin(record: Path) -> None:
    """The comparison above can fail: without the record the same mock differs in six probes."""
    with standin(differ=True, **SLOW_LEAK) as real, LiveMock(mock_settings(**SLOW_LEAK)) as plain:
        assert len(_compare(real.trigger_url, plain.url + TRIGGER + URL_TOKEN)) == 6


def test_behaviours_list_the_probed_ones_as_observed(served: str, record: Path) -> None:
    """GET /__admin/behaviours: every probed behaviour is `observed`, with at, host, verdict."""
    rows = httpx.get(f"{served}/__admin/behaviours", timeout=10).json()
    by_name = {row["name"]: row for row in rows}
    document = json.loads(record.read_text(encoding="utf-8"))
    for probe in document["probes"]:
        row = by_name[probe["id"]]
        assert row["source"] == "observed"
        assert row["observed"] == {
            "at": document["recorded_at"],
            "host": document["host"],
            "verdict": probe["verdict"],
        }
    assert by_name["status.unauthorized.wrong_token"]["value"] == 403
    assert {row["source"] for row in rows} == {"documented", "assumed", "extension", "observed"}


def test_every_probe_is_a_behaviour_of_the_mock() -> None:
    """The contract's behaviour ids, the probe list and GET /__admin/behaviours agree."""
    from mock_qualtrics.behaviours import behaviours

    names = {row["name"] for row in behaviours()}
    assert set(CASES) <= names
    assert [p.id for p in plan(Limits(), credentials=True, allow_runs=True)] == list(CASES)


def _tampered(record: Path, tmp_path: Path, change: Any, *, reseal: bool = False) -> Path:
    document = json.loads(record.read_text(encoding="utf-8"))
    change(document)
    if reseal:
        document["sha256"] = contracts.fidelity_sha256(document)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _status_403_to_401(document: dict[str, Any]) -> None:
    document["probes"][1]["observed"]["status"] = 401


def _unknown_id(document: dict[str, Any]) -> None:
    document["probes"][0]["id"] = "status.teapot"


def _drop_probes(document: dict[str, Any]) -> None:
    del document["probes"]


@pytest.mark.parametrize(
    ("change", "reseal", "message"),
    [
        (
            _status_403_to_401,
            False,
            "it was changed after it was written (its sha256 does not match)",
        ),
        (_unknown_id, True, "probes[0].id: unknown behaviour id 'status.teapot'"),
        (_drop_probes, True, "'probes' is a required property"),
    ],
)
def test_tampered_record_is_one_line_exit_2(
    record: Path, tmp_path: Path, change: Any, reseal: bool, message: str
) -> None:
    """An edited status, an unknown behaviour id, a broken shape: one line, exit 2, no mock."""
    path = _tampered(record, tmp_path, change, reseal=reseal)
    code, out, err = qharness_text("mock", "serve", "--port", "0", "--fidelity", str(path))
    assert code == 2
    assert err.strip().splitlines() == [f"error: {path}: not a usable fidelity record: {message}"]
    assert "listening" not in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"id": "run-1"}',
            "its \"kind\" is not 'qharness-fidelity-record' (is it some other JSON file?)",
        ),
        ("not json", "not JSON (line 1, column 1)"),
    ],
)
def test_foreign_file_is_one_line_exit_2(tmp_path: Path, content: str, message: str) -> None:
    """Some other JSON file, or no JSON at all: one line, exit 2."""
    path = tmp_path / "other.json"
    path.write_text(content, encoding="utf-8")
    code, _, err = qharness_text("mock", "serve", "--port", "0", "--fidelity", str(path))
    assert code == 2
    assert err.strip().splitlines() == [f"error: {path}: not a usable fidelity record: {message}"]


@pytest.mark.parametrize(
    "args",
    [
        ("certify", "--fidelity", "{missing}"),
        ("certify-sender", "--fidelity", "{missing}", "--", "true"),
        ("certify", "--fidelity", "{example}", "--mock", "http://127.0.0.1:9"),
    ],
)
def test_certify_fidelity_usage_errors(tmp_path: Path, args: tuple[str, ...]) -> None:
    """`certify` and `certify-sender` check the record before anything runs; `--fidelity` with
    `--mock` is refused (that mock follows a record only if it was served with one)."""
    missing = tmp_path / "missing.json"
    filled = [a.format(missing=missing, example=EXAMPLE) for a in args]
    code, out, err = qharness_text(*filled)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "certifying" not in out


def test_workflows_file_fidelity_table(tmp_path: Path, record: Path) -> None:
    """`[fidelity] record` is relative to the workflows file; `max_age_days` must be an int."""
    from mock_qualtrics.config import load_toml

    (tmp_path / "records").mkdir()
    (tmp_path / "records" / "f.json").write_bytes(record.read_bytes())
    good = tmp_path / "w.toml"
    good.write_text('[fidelity]\nrecord = "records/f.json"\nmax_age_days = 7\n', encoding="utf-8")
    config = load_toml(good)
    assert config["FIDELITY_RECORD"] == str(tmp_path / "records" / "f.json")
    assert config["FIDELITY_MAX_AGE_DAYS"] == 7
    bad = tmp_path / "bad.toml"
    bad.write_text('[fidelity]\nrecord = "f.json"\nmax_age_days = "old"\n', encoding="utf-8")
    code, _, err = qharness_text("mock", "serve", "--port", "0", "--workflows", str(bad))
    assert code == 2
    assert err.strip() == f"error: {bad}: fidelity.max_age_days: expected int, got 'old'"


def _old_record(tmp_path: Path, days: int) -> Path:
    document = record_document(
        [],
        url=f"https://iad1.qualtrics.com{TRIGGER}{URL_TOKEN}",
        harness_version="test",
        credentials=False,
        allow_runs=False,
        now=datetime.now(UTC) - timedelta(days=days),
    )
    path = tmp_path / "old.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_old_record_gets_a_warning(tmp_path: Path) -> None:
    """A record older than the age limit: `mock serve` says so on stderr, and still serves."""
    path = _old_record(tmp_path, 45)
    assert load_record(path).stale_warning(60) is None
    process, _ = serve("--fidelity", str(path))
    process.terminate()
    _, err = process.communicate(timeout=30)
    assert f"warning: fidelity record {path} is 45 days old" in err
    assert "limit 30 days" in err


def test_no_secret_in_the_record(record: Path) -> None:
    """The record names the host and a redacted URL; neither the token nor the urlTokenId."""
    text = record.read_text(encoding="utf-8")
    assert PASSWORD not in text
    assert URL_TOKEN not in text
    assert "urlTokenId=***" in text


@pytest.mark.mock_qualtrics(
    users=[{"username": USERNAME, "api_token": PASSWORD}],
    workflows=[
        {"id": "SV_m", "name": "m", "owner": USERNAME, "url_token_id": URL_TOKEN, "fields": []}
    ],
    fidelity={"record": str(EXAMPLE), "max_age_days": 100_000},
)
def test_plugin_marker_follows_a_record(mock_qualtrics: Any) -> None:
    """`@pytest.mark.mock_qualtrics(fidelity=...)`: a wrong token gets the recorded 403."""
    answer = httpx.post(
        mock_qualtrics.url + TRIGGER + URL_TOKEN, json={}, auth=(USERNAME, "wrong"), timeout=10
    )
    assert answer.status_code == 403
    assert answer.json()["meta"]["error"]["errorCode"] == "FORBIDDEN"


def test_certify_follows_the_record() -> None:
    """`certify --fidelity F`: the embedded mock answers a wrong token with the recorded 403,
    and the wrong-credentials check judges against that, saying it was observed."""
    code, out, err = qharness_text("certify", "--examples", "5", "--fidelity", str(EXAMPLE))
    assert code == 0, out + err
    assert "wrong API token: 403 (observed), sending stopped" in out
