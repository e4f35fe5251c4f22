"""The offline commands through ``main`` (the console script), in-process: streams, exit codes, messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import qharness, qharness_process
from support.paths import EXAMPLE, FIXTURES

from connector.validate import validator_for


def test_render_adobe_documented_profiles() -> None:
    """stdout: one bare payload per line; stderr: `line N: reason: detail` per exclusion."""
    result = qharness("render", str(EXAMPLE), str(FIXTURES / "adobe-profiles.jsonl"))
    assert result.returncode == 0, result.stderr
    payloads = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(payloads) == 2
    assert payloads[0] == {
        "person": {"name": {"firstName": "Dave"}},
        "mobilePhone": {"number": "0123456789"},
        "identityMap": {"Email": [{"id": "dave@example.com"}]},
        "segmentMembership": {
            "ups": {
                "046456e3-18e1-48a6-9bda-d68547861283": {
                    "status": "realized",
                    "lastQualificationTime": "2023-09-05T10:43:55.602687Z",
                }
            }
        },
    }
    assert all(validator_for("qualtrics-event").is_valid(p) for p in payloads)
    assert result.stderr.decode().splitlines() == [
        "line 4: hashed-email: $.identityMap.Email[0].id: "
        "'b4c9a289323b21a01c3e940f150eb9b8c542587f1abfd8f0e1cc1ffc5e475514' is not a plain-text email"
    ]


def test_render_reads_stdin_and_keeps_going_after_bad_lines() -> None:
    """A bad line is reported with its number and does not stop the good ones."""
    good = (FIXTURES / "adobe-profiles.jsonl").read_bytes().splitlines()[0]
    stdin = b"not json\n[1, 2]\n\n" + good + b"\n{}\n"
    result = qharness("render", str(EXAMPLE), "-", stdin=stdin)
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 1
    errors = result.stderr.decode().splitlines()
    assert errors[0].startswith("line 1: invalid-profile: $: not JSON")
    assert errors[1] == "line 2: invalid-profile: $: expected a JSON object, got list"
    assert len(errors) == 2  # `{}` announces no change: nothing to exclude


def test_render_without_profiles_reads_stdin() -> None:
    """PROFILES defaults to stdin."""
    good = (FIXTURES / "adobe-profiles.jsonl").read_bytes().splitlines()[0]
    assert len(qharness("render", str(EXAMPLE), stdin=good).stdout.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["render", "nope.toml", "-"], "nope.toml: cannot read the file"),
        (["render", str(EXAMPLE), "missing.jsonl"], "missing.jsonl: cannot read profiles"),
        (["sample-profiles", str(EXAMPLE), "--count", "0"], "--count"),
        (["sample-profiles", str(EXAMPLE), "--count", "1001"], "--count"),
        (["validate"], "Missing argument"),
        (["no-such-command"], "No such command"),
        (["validate", "missing.json"], "missing.json: cannot read"),
    ],
)
def test_usage_errors_exit_2_without_traceback(args: list[str], needle: str) -> None:
    """A user mistake: one clear message, exit 2, no traceback."""
    result = qharness(*args)
    assert result.returncode == 2
    assert needle in result.stderr.decode()
    assert b"Traceback" not in result.stderr


def test_activation_error_exit_2(tmp_path: Path) -> None:
    """A broken activation names file and key path and exits 2."""
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text().replace('target = "email"', 'target = "phone"'))
    result = qharness("render", str(bad), "-")
    assert result.returncode == 2
    assert f"{bad}: identities[0].target: 'phone' is not one of" in result.stderr.decode()


def test_validate_reports_json_paths_and_exits_1(tmp_path: Path) -> None:
    """Invalid payloads: every violation with its JSON path; exit 1."""
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            {
                "identityMap": {"ECID": [{"id": "1"}]},
                "segmentMembership": {
                    "ups": {
                        "a": {"status": "realized", "lastQualificationTime": "2023-09-05T10:43:55Z"}
                    }
                },
            }
        )
    )
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "identityMap": {"Email": [{"id": "x"}]},
                "segmentMembership": {
                    "ups": {
                        "a": {"status": "nope", "lastQualificationTime": "2023-09-05T10:43:55Z"}
                    }
                },
            }
        )
    )
    ok = qharness("validate", str(good))
    assert ok.returncode == 0
    assert b"valid" in ok.stdout
    result = qharness("validate", str(good), str(bad))
    assert result.returncode == 1
    out = result.stdout.decode()
    assert f"{bad}: $.identityMap.Email[0].id:" in out
    assert f"{bad}: $.segmentMembership.ups.a.status: 'nope' is not one of" in out


def test_validate_enforces_the_size_limit(tmp_path: Path) -> None:
    """A body over 102,400 bytes fails validation even if its shape is right."""
    doc = {
        "big": "x" * 102_400,
        "identityMap": {"ECID": [{"id": "1"}]},
        "segmentMembership": {
            "ups": {"a": {"status": "realized", "lastQualificationTime": "2023-09-05T10:43:55Z"}}
        },
    }
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    result = qharness("validate", str(path))
    assert result.returncode == 1
    assert b"102,400" in result.stdout


def test_validate_jsonl_and_other_contracts(tmp_path: Path) -> None:
    """A JSON Lines file is checked line by line; --contract picks another contract."""
    path = tmp_path / "profiles.jsonl"
    path.write_bytes((FIXTURES / "adobe-profiles.jsonl").read_bytes() + b'{"identityMap": 5}\n')
    result = qharness("validate", "--contract", "aep-profile", str(path))
    assert result.returncode == 1
    lines = result.stdout.decode().splitlines()
    assert sum("valid (aep-profile" in line for line in lines) == 4
    assert any(line.startswith(f"{path}:5: $.identityMap:") for line in lines)


def test_sample_profiles_are_deterministic_and_render(tmp_path: Path) -> None:
    """Same seed, same profiles; every sample renders to a valid payload."""
    first = qharness("sample-profiles", str(EXAMPLE), "--count", "25", "--seed", "7")
    second = qharness("sample-profiles", str(EXAMPLE), "--count", "25", "--seed", "7")
    assert first.returncode == 0
    assert first.stdout == second.stdout
    assert len(first.stdout.splitlines()) == 25
    rendered = qharness("render", str(EXAMPLE), "-", stdin=first.stdout)
    assert len(rendered.stdout.splitlines()) == 25
    assert rendered.stderr == b""


def test_version() -> None:
    """--version names the tool."""
    result = qharness("--version")
    assert result.returncode == 0
    assert b"qharness" in result.stdout


def test_the_installed_script_answers_v() -> None:
    """The smoke test of the console script itself (the rest of this file runs ``main``)."""
    result = qharness_process("-V")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"qharness, version ")
    assert result.stderr == b""
