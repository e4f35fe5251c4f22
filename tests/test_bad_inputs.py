"""The bad-input corpus (tests/bad_inputs/): every entry gets a clear answer, never a traceback.

Activation files: exit 2 and one message that names the file. Profile lines: exit 0 (bad lines
do not stop good ones) and `line N: <reason>` with the documented reason. Huge and deeply nested
documents are generated here rather than stored.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "activation.toml"


def qharness(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "connector.cli", *args], input=stdin, capture_output=True, timeout=60, check=False
    )


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
    reasons = {int(line.split(":")[0].removeprefix("line ")): line.split(": ")[1] for line in err.splitlines()}
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
