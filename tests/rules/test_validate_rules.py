"""Contract validation's rules: the 102,400-byte limit at its boundary, ECMA ``$``, the wording
of each kind of violation, their order, and what ``check`` raises.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import contracts
from connector.errors import ContractViolation, ViolationDetail
from connector.exactjson import ExactNumber
from connector.schema_errors import describe
from connector.validate import (
    MAX_PAYLOAD_BYTES,
    ContractValidator,
    _uses_negation,
    payload_violations,
    validator_for,
)

AUDIENCE = "046456e3-18e1-48a6-9bda-d68547861283"


def event(email: Any = "dave@example.com", **overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "identityMap": {"Email": [{"id": email}]},
        "segmentMembership": {
            "ups": {
                AUDIENCE: {"status": "realized", "lastQualificationTime": "2023-09-05T10:43:55Z"}
            }
        },
    }
    document.update(overrides)
    return document


def test_the_limit_is_102400_bytes() -> None:
    """Qualtrics' 100 KB, read as 102,400 bytes."""
    assert MAX_PAYLOAD_BYTES == 102_400


@given(st.integers(0, 300_000))
@example(102_400)
@example(102_401)
def test_a_body_is_too_large_iff_over_102400_bytes(size: int) -> None:
    """A valid document of ``size`` bytes has a violation iff size > 102,400, worded exactly."""
    found = payload_violations(event(), size)
    if size > 102_400:
        assert found == [
            ViolationDetail("$", f"body is {size:,} bytes; Qualtrics accepts at most 102,400")
        ]
    else:
        assert found == []


def test_size_and_contract_violations_are_both_listed() -> None:
    """An oversized, invalid payload reports the size first, then every contract error."""
    found = payload_violations({"identityMap": {"Email": [{"id": "x"}]}}, 102_401)
    assert found[0] == ViolationDetail(
        "$", "body is 102,401 bytes; Qualtrics accepts at most 102,400"
    )
    assert ViolationDetail("$", "missing required key: 'segmentMembership'") in found[1:]


@pytest.mark.parametrize(
    "email", ["dave@example.com\n", "dave@example.com\n\n", " dave@example.com"]
)
def test_a_trailing_newline_does_not_match_dollar(email: str) -> None:
    """``$`` is ECMA-262's end of input: both validators refuse a trailing newline."""
    validator = validator_for("qualtrics-event")
    assert not validator.is_valid(event(email))
    errors = validator.errors(event(email))
    assert [e.json_path for e in errors] == ["$.identityMap.Email[0].id"]
    assert errors[0].message.startswith(
        f"{email!r} does not match the expected format (A plain-text email"
    )


def test_a_pattern_error_on_a_non_string_is_a_type_error_only() -> None:
    """A non-string where a pattern applies is reported once, as a type error."""
    errors = validator_for("qualtrics-event").errors(event(42))
    assert errors == [ViolationDetail("$.identityMap.Email[0].id", "42 is not of type 'string'")]


def test_errors_are_ordered_by_location() -> None:
    """Several violations come sorted by their path."""
    document = event("nope")
    document["segmentMembership"]["ups"][AUDIENCE]["status"] = "gone"
    paths = [e.json_path for e in validator_for("qualtrics-event").errors(document)]
    assert paths == sorted(paths)
    assert len(paths) == 2


def test_check_raises_with_the_contract_and_source() -> None:
    """``check`` passes a valid document and raises ContractViolation naming contract and source."""
    validator = validator_for("qualtrics-event")
    validator.check(event())
    with pytest.raises(ContractViolation) as caught:
        validator.check({}, source="x.json")
    assert caught.value.contract == "qualtrics-event"
    assert caught.value.source == "x.json"
    assert [e.json_path for e in caught.value.errors] == ["$", "$"]
    assert str(caught.value).startswith(
        "x.json: breaks contract 'qualtrics-event' at $: missing required key: "
    )


def test_validators_are_compiled_once_and_named() -> None:
    """One validator per contract, shared; its repr names the contract and its version."""
    validator = validator_for("qualtrics-event")
    assert validator is validator_for("qualtrics-event")
    assert validator.name == "qualtrics-event"
    assert repr(validator) == f"ContractValidator('qualtrics-event', version={validator.version!r})"
    assert validator.version == "2.0.0"


def test_check_without_a_source_starts_with_the_contract() -> None:
    """Without ``source`` the message starts at the contract, with no empty prefix."""
    with pytest.raises(ContractViolation) as caught:
        validator_for("qualtrics-event").check({})
    assert caught.value.source == ""
    assert str(caught.value).startswith("breaks contract 'qualtrics-event' at $: ")


def test_a_pattern_without_a_description_says_only_the_format() -> None:
    """A patterned key whose schema has no description: no empty parentheses."""
    errors = validator_for("activation").errors({"destination": {"api_token_env": "1-bad"}})
    detail = ViolationDetail(
        "$.destination.api_token_env", "'1-bad' does not match the expected format"
    )
    assert detail in errors


class _SaysNo:
    def is_valid(self, document: Any) -> bool:
        return False


def test_a_disagreement_between_validators_is_reported_not_passed() -> None:
    """If the compiled validator refuses what the detailed one accepts, that is said plainly."""
    validator = ContractValidator("qualtrics-event")
    validator._fast = _SaysNo()
    with pytest.raises(ContractViolation) as caught:
        validator.check(event())
    assert caught.value.errors == (ViolationDetail("$", "rejected by the compiled validator only"),)


def test_payload_violations_report_a_disagreement_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same plain report when checking a payload."""
    monkeypatch.setattr(validator_for("qualtrics-event"), "_fast", _SaysNo())
    assert payload_violations(event(), 10) == [
        ViolationDetail("$", "rejected by the compiled validator only")
    ]


def custom(monkeypatch: pytest.MonkeyPatch, schema: dict[str, Any]) -> ContractValidator:
    """A validator compiled from ``schema`` instead of a bundled contract."""
    monkeypatch.setattr(contracts, "load", lambda name: schema)
    monkeypatch.setattr(contracts, "version", lambda name: "0.0.0")
    return ContractValidator("custom")


BEYOND_FLOAT = ExactNumber("1.00000000000000000001")  # kept as text: no float writes it back


def test_an_exact_number_the_fast_validator_refuses_is_checked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """jsonschema-rs answers "invalid" for a number kept as text; its stand-in decides."""
    validator = custom(monkeypatch, {"properties": {"n": {"type": "number", "maximum": 5}}})
    assert validator.is_valid({"n": BEYOND_FLOAT}) is True
    assert validator.is_valid({"n": ExactNumber("6.00000000000000000001")}) is False
    assert validator.is_valid({"n": 6}) is False
    assert validator.is_valid({"n": 4}) is True


def test_a_schema_with_negation_never_trusts_the_fast_valid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under ``not``, an unrecognised value's "invalid" turns into a "valid": check the stand-in."""
    validator = custom(monkeypatch, {"properties": {"n": {"not": {"type": "number"}}}})
    assert validator.is_valid({"n": BEYOND_FLOAT}) is False
    assert validator.is_valid({"n": "text"}) is True


def negation_oracle(schema: Any) -> bool:
    """Walk without recursion: is ``not``, ``oneOf`` or ``if`` a key of any object in it?"""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if {"not", "oneOf", "if"} & node.keys():
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


SCHEMA_KEYS = st.sampled_from(["not", "oneOf", "if", "type", "properties", "items", "x"])
SCHEMAS = st.recursive(
    st.none() | st.booleans() | st.sampled_from(["not", "oneOf", "if", "string"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(SCHEMA_KEYS, inner, max_size=3),
    max_leaves=10,
)


@given(SCHEMAS)
@example({"not": {}})
@example({"oneOf": []})
@example({"if": True})
@example({"items": [{"type": "string"}, {"properties": {"a": {"not": {}}}}]})
@example({"type": "object", "properties": {"a": {"type": "string"}}})
@example(["not", "oneOf", "if"])
def test_negation_is_found_at_any_depth_as_a_key_only(schema: Any) -> None:
    """``not``, ``oneOf`` or ``if`` as a key anywhere (objects, arrays) makes a "valid" untrusted;
    the same words as values do not."""
    assert _uses_negation(schema) is negation_oracle(schema)


def test_unknown_keys_are_each_named_in_order_with_a_guess_where_one_is_close() -> None:
    """Every unknown key of an object, as written, joined by "; ": a close one gets its guess;
    the object's other errors keep their own wording."""
    errors = validator_for("activation").errors(
        {"destination": {"name": "n", "user_name": "u", "qqqq": 1}}
    )
    at_destination = [e.message for e in errors if e.json_path == "$.destination"]
    assert at_destination == [
        "missing required key: 'url'",
        "missing required key: 'username'",
        "missing required key: 'api_token_env'",
        "'user_name': unknown key; did you mean 'username'?; 'qqqq': unknown key",
    ]


def test_an_object_that_allows_no_keys_keeps_jsonschemas_words() -> None:
    """With no allowed key to guess from, jsonschema's own message is the clearest."""
    (error,) = jsonschema.Draft7Validator({"additionalProperties": False}).iter_errors({"a": 1})
    assert describe(error) == error.message
    assert "'a' was unexpected" in describe(error)


def test_only_an_additional_properties_error_speaks_of_unknown_keys() -> None:
    """Another error about an object that holds a key its schema does not name keeps its own
    words: the key is not what is wrong there."""
    schema = {"properties": {"a": {}}, "minProperties": 2}
    (error,) = jsonschema.Draft7Validator(schema).iter_errors({"b": 1})
    assert error.validator == "minProperties"
    assert describe(error) == error.message
