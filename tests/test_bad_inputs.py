"""The bad-input corpus (tests/bad_inputs/): every entry gets a clear answer, never a traceback.

Activation files: exit 2 and one message that names the file. Profile lines: exit 0 (bad lines
do not stop good ones) and `line N: <reason>` with the documented reason. Huge and deeply nested
documents are generated here rather than stored.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support.cli import qharness
from support.paths import EXAMPLE

CORPUS = Path(__file__).resolve().parent / "bad_inputs"


def assert_clean_usage_error(result: subprocess.CompletedProcess[bytes], needle: str) -> None:
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, err
    assert "Traceback" not in err
    assert needle in err
    assert result.stdout == b""


@pytest.mark.parametrize("path", sorted((CORPUS / "activations").iterdir()), ids=lambda p: p.name)
def test_bad_activation_files_exit_2_naming_the_file(path: Path) -> None:
    """Malformed TOML/JSON, wrong types, clashes: exit 2, the file named, no traceback."""
    assert_clean_usage_error(qharness("render", str(path), "-"), str(path))


def test_huge_and_deeply_nested_activations(tmp_path: Path) -> None:
    """A 20 MB document and one nested 200,000 deep are refused cleanly."""
    deep = tmp_path / "deep.json"
    deep.write_bytes(b'{"a":' * 200_000 + b"1" + b"}" * 200_000)
    assert_clean_usage_error(qharness("render", str(deep), "-"), str(deep))
    huge = tmp_path / "huge.toml"
    huge.write_bytes(b'[destination]\nname = "' + b"x" * 20_000_000 + b'"\n')
    assert_clean_usage_error(qharness("render", str(huge), "-"), str(huge))


def test_bad_profile_lines_get_their_documented_reason() -> None:
    """Each bad line is reported with its line number and reason; good lines still render."""
    expected = (CORPUS / "profiles" / "expected.txt").read_text().split()
    result = qharness("render", str(EXAMPLE), str(CORPUS / "profiles" / "cases.jsonl"))
    assert result.returncode == 0
    err = result.stderr.decode()
    assert "Traceback" not in err
    reasons = {
        int(line.split(":")[0].removeprefix("line ")): line.split(": ")[1]
        for line in err.splitlines()
    }
    for number, reason in enumerate(expected, start=1):
        if reason in ("-", "sent"):
            assert number not in reasons, err
        else:
            assert reasons.get(number) == reason, (number, err)
    assert len(result.stdout.splitlines()) == expected.count("sent")


def test_invalid_utf8_and_deep_profile_lines() -> None:
    """Undecodable and absurdly nested lines are invalid-profile, not crashes."""
    deep = b"[" * 100_000 + b"]" * 100_000
    stdin = (CORPUS / "profiles" / "invalid-utf8.jsonl").read_bytes() + deep + b"\n"
    result = qharness("render", str(EXAMPLE), "-", stdin=stdin)
    assert result.returncode == 0
    lines = result.stderr.decode().splitlines()
    assert [line.split(": ")[1] for line in lines] == ["invalid-profile", "invalid-profile"]


@pytest.mark.parametrize("path", sorted((CORPUS / "mock_configs").iterdir()), ids=lambda p: p.name)
def test_bad_mock_configs_exit_2_naming_the_file(path: Path) -> None:
    """`qharness mock serve --workflows BAD` refuses to start, naming the file and the key."""
    assert_clean_usage_error(
        qharness("mock", "serve", "--port", "0", "--workflows", str(path)), str(path)
    )


BODIES = [
    ("not json", "application/json", 400, "invalid-json"),
    ('{"a": 1}', "text/plain", 415, "unsupported-media-type"),
    ("[" * 40 + "]" * 40, "application/json", 400, "too-deep"),
    ('{"a": "' + "x" * 102_400 + '"}', "application/json", 413, "too-large"),
    ("\xff\xfe", "application/json", 400, "invalid-json"),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "outcome"),
    BODIES,
    ids=[b[3] + f"-{i}" for i, b in enumerate(BODIES)],
)
def test_bad_trigger_bodies_get_their_documented_status(
    mock_qualtrics: object, body: str, content_type: str, status: int, outcome: str
) -> None:
    """Each malformed body gets Qualtrics' documented status and an enveloped error, over real HTTP."""
    import httpx

    mock = mock_qualtrics
    mock.add_user("bad@example.com", "bad-token")  # type: ignore[attr-defined]
    workflow = mock.create_workflow("bad inputs", "bad@example.com")  # type: ignore[attr-defined]
    data = (
        body.encode("latin-1")
        if outcome == "invalid-json" and body.startswith("\xff")
        else body.encode()
    )
    response = httpx.post(
        workflow["trigger_url"],
        content=data,
        headers={"Content-Type": content_type, "X-API-TOKEN": "bad-token"},
    )
    assert response.status_code == status
    assert response.json()["meta"]["httpStatus"].startswith(str(status))
    assert [e["outcome"] for e in mock.events()] == [outcome]  # type: ignore[attr-defined]
