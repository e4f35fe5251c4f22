"""Every JSON number leaves exactly as it arrived: parser, renderer, validator, size limit, CLI."""

from __future__ import annotations

import pytest
from hypothesis import example, given, note
from support.cli import qharness
from support.paths import EXAMPLE

from connector.activation import load_activation
from connector.certify.properties import expect, judge
from connector.exactjson import ExactNumber, dumps, loads
from connector.profiles import parse_line
from connector.render import Exclusion, Payload, Renderer
from connector.strategies import number_texts
from connector.validate import validator_for

ACTIVATION = load_activation(EXAMPLE)
RENDERER = Renderer(ACTIVATION)
AUDIENCE = ACTIVATION.audiences[0].id


def profile_line(first_name: str) -> bytes:
    """A profile whose mapped ``person.name.firstName`` is the raw JSON text ``first_name``."""
    return (
        b'{"identityMap":{"Email":[{"id":"dave@example.com"}]},"person":{"name":{"firstName":'
        + first_name.encode()
        + b'}},"segmentMembership":{"ups":{"'
        + AUDIENCE.encode()
        + b'":{"lastQualificationTime":"2023-09-05T10:43:55.602687Z","status":"realized"}}}}'
    )


@given(number_texts())
@example("123456789012345678901234567890")
@example("1e400")
@example("1.50")
@example("-0")
@example("1" * 1000)
@example("-1e-400")
@example("18446744073709551616")
def test_any_json_number_reaches_the_payload_byte_exact(number: str) -> None:
    """A number in a profile line is written into the payload body exactly as it was read."""
    note(f"number: {number}")
    result = RENDERER.render(parse_line(profile_line(f"[{number}]")))
    assert isinstance(result, Payload)
    assert b'"firstName":[' + number.encode() + b"]" in result.body


@given(number_texts())
def test_the_judge_sees_the_number_unchanged(number: str) -> None:
    """Certification's values-unchanged check passes the real renderer on any number."""
    profile = parse_line(profile_line(number))
    result = RENDERER.build(profile)
    verdicts = judge(ACTIVATION, profile, result, expect(ACTIVATION, profile))
    assert verdicts.failures == {}


def test_the_judge_catches_a_number_rewritten() -> None:
    """``1.50`` arriving as ``1.5`` is a change, though Python calls them equal."""
    profile = parse_line(profile_line("1.50"))
    result = RENDERER.build(profile)
    assert isinstance(result, Payload)
    rewritten = Payload(result.document, result.body.replace(b"1.50", b"1.5"), "", ())
    verdicts = judge(ACTIVATION, profile, rewritten, expect(ACTIVATION, profile))
    assert "property.values-unchanged" in verdicts.failures
    assert "1.50" in verdicts.failures["property.values-unchanged"]


def test_lossless_lines_keep_plain_python_numbers() -> None:
    """The fast path: numbers orjson writes back the same stay ints and floats."""
    assert loads(b'{"a":[1,-2,2.5,0.1,18446744073709551615,"-0"]}') == {
        "a": [1, -2, 2.5, 0.1, 18446744073709551615, "-0"]
    }


@pytest.mark.parametrize("text", ["1.50", "1e400", "-0", "1E5", "1" * 30])
def test_numbers_that_would_change_are_kept_as_text(text: str) -> None:
    """What orjson would rewrite is an ExactNumber carrying the original text."""
    assert loads(text.encode()) == ExactNumber(text)
    assert dumps({"n": loads(text.encode())}) == b'{"n":' + text.encode() + b"}"


def test_a_python_int_past_64_bits_is_written_in_full() -> None:
    """Certification and callers may hand over Python ints; they are not floated either."""
    assert dumps([10**30, -(10**30)]) == b"[1" + b"0" * 30 + b",-1" + b"0" * 30 + b"]"


def test_contracts_still_judge_documents_with_exact_numbers() -> None:
    """An exact number is a number to the validators: fine as an attribute, wrong as an id."""
    event = validator_for("qualtrics-event")
    good = parse_line(profile_line("1e400"))
    result = RENDERER.build(good)
    assert isinstance(result, Payload)
    assert event.is_valid(result.document)
    bad = loads(
        b'{"identityMap":{"ECID":[{"id":1e400}]},"segmentMembership":{"ups":{"a":'
        b'{"status":"realized","lastQualificationTime":"2023-09-05T10:43:55Z"}}}}'
    )
    assert not event.is_valid(bad)
    assert [e.json_path for e in event.errors(bad)] == ["$.identityMap.ECID[0].id"]


def test_the_size_limit_counts_the_exact_bytes() -> None:
    """A 102,400-digit integer is measured as written (not as a float's 22 characters)."""
    result = RENDERER.build(parse_line(profile_line("9" * 102_400)))
    assert isinstance(result, Exclusion)
    assert result.reason == "payload-too-large"


def test_render_cli_keeps_documented_hard_numbers() -> None:
    """``qharness render`` writes big integers, 1e400 and 1.50 as they came."""
    numbers = "123456789012345678901234567890,1e400,1.50,-0," + "7" * 1000
    done = qharness("render", str(EXAMPLE), "-", stdin=profile_line(f"[{numbers}]") + b"\n")
    assert done.returncode == 0, done.stderr
    assert b'"firstName":[' + numbers.encode() + b"]" in done.stdout


def test_exactjson_exports() -> None:
    """The module's public surface is what the connector and partners use."""
    from connector import exactjson

    assert sorted(exactjson.__all__) == [
        "ExactNumber",
        "contains_exact",
        "dumps",
        "fragment",
        "loads",
        "number_text",
        "plain",
    ]
