"""The contracts: well-formed draft-07, versioned, format-free, and true to their examples."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import contracts
from connector.validate import validator_for

EXAMPLES = Path(str(resources.files("contracts").joinpath("examples")))
CASES = sorted(EXAMPLES.glob("*/*/*.json"))


def _walk(node: Any) -> list[str]:
    keys: list[str] = []
    if isinstance(node, dict):
        keys.extend(node)
        for value in node.values():
            keys.extend(_walk(value))
    elif isinstance(node, list):
        for value in node:
            keys.extend(_walk(value))
    return keys


@pytest.mark.parametrize("name", contracts.CONTRACT_NAMES)
def test_contract_is_draft7_with_versioned_id(name: str) -> None:
    """Each contract is valid draft-07 and its $id ends in a semantic version."""
    schema = contracts.load(name)
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["$id"].endswith(f"/{name}/{contracts.version(name)}")
    assert contracts.version(name).count(".") == 2


@pytest.mark.parametrize("name", contracts.CONTRACT_NAMES)
def test_contract_uses_patterns_not_formats(name: str) -> None:
    """No `format`: validators in different languages disagree on formats, never on patterns."""
    assert "format" not in _walk(contracts.load(name))


def test_every_contract_has_valid_and_invalid_examples() -> None:
    """Each contract ships at least one valid and one invalid example document."""
    for name in contracts.CONTRACT_NAMES:
        assert list((EXAMPLES / name / "valid").glob("*.json")), name
        assert list((EXAMPLES / name / "invalid").glob("*.json")), name


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parts[-3]}/{p.parts[-2]}/{p.stem}")
def test_example_documents(case: Path) -> None:
    """Both validators (compiled and detailed) give the example's expected answer."""
    name, expected = case.parts[-3], case.parts[-2]
    document = json.loads(case.read_text(encoding="utf-8"))
    validator = validator_for(name)
    assert validator.is_valid(document) is (expected == "valid")
    assert (validator.errors(document) == []) is (expected == "valid")


def test_unknown_contract_is_named() -> None:
    """Asking for a contract that does not exist names it and the known ones."""
    with pytest.raises(KeyError, match="unknown contract 'nope'"):
        contracts.load("nope")


def test_load_returns_a_fresh_copy() -> None:
    """Callers may mutate what they load without changing the next caller's copy."""
    contracts.load("activation")["title"] = "changed"
    assert contracts.load("activation")["title"] != "changed"


@pytest.mark.parametrize(
    ("timestamp", "valid"),
    [
        ("2021-06-30T18:40:07.591378Z", True),
        ("2021-10-26T17:41:55.947+0000", True),
        ("2021-10-26T17:41:55+02:00", True),
        ("2021-10-26T17:41:55.123456789-05:30", True),
        ("2021-10-26T17:41:55", False),
        ("2021-10-26 17:41:55Z", False),
        ("2021-13-26T17:41:55Z", False),
        ("2021-10-26T17:41:55.1234567890Z", False),
        ("2021-10-26T24:00:00Z", False),
    ],
)
def test_timestamp_pattern(timestamp: str, valid: bool) -> None:
    """lastQualificationTime: both AEP formats, fraction of 1-9 digits, an explicit offset."""
    payload = {
        "identityMap": {"ECID": [{"id": "1"}]},
        "segmentMembership": {
            "ups": {"a": {"status": "realized", "lastQualificationTime": timestamp}}
        },
    }
    assert validator_for("qualtrics-event").is_valid(payload) is valid
