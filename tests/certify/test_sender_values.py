"""sender.values-unchanged is fed what live traffic carries, and tells a changed value apart.

Senders run as commands, as a partner runs them: one that reads numbers into doubles (Node's
``JSON.parse``, or Python through ``float`` where Node is absent) and one that trims strings must
fail, naming the field; the standard ``json`` module, whose floats are the same doubles, passes.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import qharness_text
from tests.support.paths import EXAMPLES, FIXTURES

SENDERS = FIXTURES / "senders"
#: Enough profiles for every showcase value of the bundled example's two attributes.
PROFILES = "48"
CALM = 'name = "calm"\ndescription = "no faults: only the values are graded"\n'


def certify(tmp_path: Path, *command: str, flags: tuple[str, ...] = ()) -> dict[str, Any]:
    scenario = tmp_path / "calm.toml"
    scenario.write_text(CALM)
    report = tmp_path / "report.json"
    code, out, err = qharness_text(
        "certify-sender", "--scenario", str(scenario), "--profiles", PROFILES, "--seed", "5",
        "--json", str(report), *flags, "--", *command,
    )  # fmt: skip
    assert code in (0, 1), out + err
    result: dict[str, Any] = json.loads(report.read_text())
    result["exit"] = code
    return result


def values(result: dict[str, Any]) -> dict[str, Any]:
    check: dict[str, Any] = result["checks"]["sender.values-unchanged"]
    return check


def _doubles_sender() -> list[str]:
    node = shutil.which("node")
    if node is not None:
        return [node, str(SENDERS / "doubles.js")]
    return [sys.executable, str(SENDERS / "python_sender.py"), "floats"]


def test_a_sender_that_reads_numbers_into_doubles_fails_on_a_64_bit_integer(
    tmp_path: Path,
) -> None:
    """2^53 + 1 arrives one off: the check fails naming the field, sent and received values."""
    result = certify(tmp_path, *_doubles_sender())
    check = values(result)
    assert check["passed"] is False
    text = check["evidence"] + "\n" + check["details"]
    assert "arrived as 9007199254740992 (expected 9007199254740993)" in text
    assert "`mobilePhone.number`" in text or "`person.name.firstName`" in text
    assert result["exit"] == 1


def test_a_sender_that_trims_strings_fails_naming_the_field(tmp_path: Path) -> None:
    """`` Dave`` arrives as ``Dave``: a changed value, with the field named."""
    result = certify(tmp_path, sys.executable, str(SENDERS / "python_sender.py"), "trims")
    check = values(result)
    assert check["passed"] is False
    text = check["evidence"] + "\n" + check["details"]
    assert (
        "arrived as 'Dave' (expected ' Dave')" in text
        or "arrived as 'Ana' (expected 'Ana ')" in text
    )


def test_a_stdlib_json_sender_passes_and_byte_exact_tells_the_spelling(tmp_path: Path) -> None:
    """Python's ``json`` keeps integers and doubles: it passes; ``--byte-exact`` then sees that
    ``1.0E10`` came back as ``10000000000.0``."""
    command = (sys.executable, str(SENDERS / "python_sender.py"))
    result = certify(tmp_path, *command)
    assert values(result)["passed"] is True, values(result)
    assert result["exit"] == 0
    exact = certify(tmp_path, *command, flags=("--byte-exact",))
    text = values(exact)["evidence"] + "\n" + values(exact)["details"]
    assert values(exact)["passed"] is False
    assert "arrived as 10000000000.0 (expected 1.0E10)" in text


def test_the_feed_holds_the_values_live_traffic_carries(tmp_path: Path) -> None:
    """The profiles file a sender reads holds 2^53 + 1, Java's doubles as written, edge
    whitespace, a ~100 KB string, booleans, arrays and objects; the activation copy is JSON."""
    dump = tmp_path / "dump"
    script = (
        "import os, shutil, sys; "
        f"shutil.copy(os.environ['QHARNESS_PROFILES'], {str(dump)!r} + '.jsonl'); "
        f"shutil.copy(os.environ['QHARNESS_ACTIVATION'], {str(dump)!r} + '.activation')"
    )
    certify(tmp_path, sys.executable, "-c", script)
    raw = (tmp_path / "dump.jsonl").read_bytes()
    for text in (b":9007199254740993", b":1.0E10", b":4.9E-324", b":-0.0", b'" Dave"', b":true"):
        assert text in raw, text
    lines = raw.splitlines()
    assert max(len(line) for line in lines) > 100_000
    kinds = {type(json.loads(line)["person"]["name"]["firstName"]).__name__ for line in lines}
    assert {"str", "int", "float", "bool", "list", "dict"} <= kinds
    json.loads((tmp_path / "dump.activation").read_text())  # JSON, though the original is TOML
    assert (EXAMPLES / "activation.toml").exists()


@pytest.mark.parametrize(
    ("line", "wanted"),
    [
        (b"not json\n", "line 1: not JSON"),
        (b'{"identityMap": {"Email": [{"id": ""}]}}\n', "line 1: breaks the aep-profile contract"),
        (b"[1]\n", "line 1: expected a JSON object"),
    ],
)
def test_a_bad_profiles_file_is_one_line_and_exit_2(
    tmp_path: Path, line: bytes, wanted: str
) -> None:
    """``--profiles-file`` is checked before anything runs."""
    own = tmp_path / "own.jsonl"
    own.write_bytes(line)
    code, _, err = qharness_text(
        "certify-sender", "--profiles-file", str(own), "--", sys.executable, "-c", "0"
    )
    assert code == 2
    [said] = err.splitlines()
    assert wanted in said


def test_own_profiles_are_fed_and_graded(tmp_path: Path) -> None:
    """``--profiles-file`` with ``--profiles 0``: exactly the user's profiles are fed."""
    own = tmp_path / "own.jsonl"
    profile = {
        "identityMap": {"Email": [{"id": "own@example.com"}]},
        "person": {"name": {"firstName": 12345678901234567890}},
        "segmentMembership": {"ups": {"046456e3-18e1-48a6-9bda-d68547861283": {
            "status": "realized", "lastQualificationTime": "2024-01-01T00:00:00Z"}}},
    }  # fmt: skip
    own.write_text(json.dumps(profile) + "\n")
    scenario = tmp_path / "calm.toml"
    scenario.write_text(CALM)
    report = tmp_path / "r.json"
    code, out, err = qharness_text(
        "certify-sender", "--profiles-file", str(own), "--profiles", "0", "--scenario",
        str(scenario), "--json", str(report), "--",
        sys.executable, str(SENDERS / "python_sender.py"),
    )  # fmt: skip
    assert code == 0, out + err
    result = json.loads(report.read_text())
    assert result["example_counts"]["profiles fed"] == 1


def test_our_own_send_passes_with_strict_numbers_and_byte_exact(tmp_path: Path) -> None:
    """``qharness send`` carries 1,000-digit integers, ``1e400`` and ``1.50`` as written."""
    send = (
        f"{sys.executable} -m connector.cli send "
        '"$QHARNESS_ACTIVATION" "$QHARNESS_PROFILES" --allow-http-loopback'
    )
    (tmp_path / "run").mkdir()
    result = certify(
        tmp_path, "sh", "-c", f"cd {tmp_path / 'run'} && {send}",
        flags=("--strict-numbers", "--byte-exact"),
    )  # fmt: skip
    assert result["exit"] == 0, result["checks"]
    assert "--strict-numbers --byte-exact" in result["replay"]


def test_a_bad_profiles_file_still_writes_the_junit_report(tmp_path: Path) -> None:
    """CI sees why: the report holds the failing ``sender.profiles-file`` case, exit 2."""
    own = tmp_path / "own.jsonl"
    own.write_bytes(b'{"identityMap": 5}\n')
    junit = tmp_path / "j.xml"
    code, _, err = qharness_text(
        "certify-sender", "--profiles-file", str(own), "--junit", str(junit),
        "--", sys.executable, "-c", "0",
    )  # fmt: skip
    assert code == 2
    assert "breaks the aep-profile contract" in err
    text = junit.read_text()
    assert 'name="sender.profiles-file"' in text
    assert "breaks the aep-profile contract" in text
