"""Errors that name the mistake: typos, TOML activations, contract names, plain wording."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from support.destination import TOKEN, workflow_with_activation
from support.paths import EXAMPLE
from support.profiles import jsonl, profile

from connector.cli import main
from connector.plugin import MockQualtrics

EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    assert old in EXAMPLE_TEXT
    path = tmp_path / "activation.toml"
    path.write_text(EXAMPLE_TEXT.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "username = ",
            "user_name = ",
            "destination.user_name: unknown key; did you mean 'username'? "
            "('username' is required and missing)",
        ),
        (
            "[[audiences]]",
            "[[audience]]",
            "audience: unknown key; did you mean 'audiences'? ('audiences' is required and missing)",
        ),
    ],
)
def test_a_typo_is_named_as_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, expected: str
) -> None:
    """The misspelled key is named with the key it probably meant, in one line, exit 2."""
    path = _variant(tmp_path, old, new)
    assert main(["render", str(path), str(jsonl(tmp_path / "p.jsonl", []))]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {path}: {expected}\n"


def test_validate_accepts_a_toml_activation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`validate --contract activation` reads TOML: valid is valid; a typo is named."""
    assert main(["validate", "--contract", "activation", str(EXAMPLE)]) == 0
    assert "valid (activation" in capsys.readouterr().out
    typo = _variant(tmp_path, "username = ", "user_name = ")
    assert main(["validate", "--contract", "activation", str(typo)]) == 1
    captured = capsys.readouterr()
    assert "'user_name': unknown key; did you mean 'username'?" in captured.out
    assert "not JSON" not in captured.out
    assert captured.err == "1 invalid document\n"


def test_an_unknown_contract_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    """A misspelled contract name: exit 2, and every known name in the message."""
    assert main(["validate", "--contract", "activatoin", "x.json"]) == 2
    err = capsys.readouterr().err
    for name in ("activation", "aep-profile", "qualtrics-event", "run-record"):
        assert repr(name) in err


def test_the_email_error_has_no_internal_comment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The contract's description is for users; the regex rationale stays a $comment."""
    payload = profile("not an email")
    assert main(["validate", str(jsonl(tmp_path / "p.jsonl", [payload]))]) == 1
    out = capsys.readouterr().out
    assert "'not an email' does not match the expected format (A plain-text email: " in out
    assert "regex" not in out


def test_camel_case_warning_does_not_repeat_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`'mobile_phone_number' is not camelCase;` once, not twice."""
    path = _variant(tmp_path, 'target = "mobilePhone.number"', 'target = "mobile_phone_number"')
    assert main(["render", str(path), str(jsonl(tmp_path / "p.jsonl", []))]) == 0
    err = capsys.readouterr().err
    assert "'mobile_phone_number' is not camelCase; Qualtrics" in err


def test_test_destination_says_why_on_stderr(
    mock_qualtrics: MockQualtrics,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong token: exit 1 and the failure on stderr, numbered like the input (line N)."""
    _, activation = workflow_with_activation(mock_qualtrics, tmp_path)
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN + "-wrong")
    data = jsonl(tmp_path / "p.jsonl", [b"\n", profile("a@example.com"), b"[]\n"])
    code = main(["test-destination", str(activation), str(data), "--allow-http-loopback"])
    assert code == 1
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert "line 3: invalid-profile: $: expected a JSON object, got list" in err
    assert (
        "line 2: http 401 Unauthorized: wrong user name or API token "
        f"(check $QUALTRICS_API_TOKEN and destination.username in {activation})" in err
    )
    assert err[-1].startswith("test-destination: 1 of 1 call failed; first: line 2: http 401")
    assert "profile " not in captured.err
    assert orjson.loads(captured.out)["results"][0]["httpCalls"][0]["response"]["code"] == 401


def test_test_destination_numbers_samples_as_samples(
    mock_qualtrics: MockQualtrics,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without PROFILES the generated profiles are 'sample N'."""
    _, activation = workflow_with_activation(mock_qualtrics, tmp_path)
    monkeypatch.setenv("QUALTRICS_API_TOKEN", "wrong")
    args = ["test-destination", str(activation), "--count", "2", "--allow-http-loopback"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "sample 1: http 401 Unauthorized" in err
    assert "test-destination: 2 of 2 calls failed" in err
