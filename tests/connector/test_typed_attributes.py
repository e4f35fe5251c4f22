"""``type`` on ``[[attributes]]``: it drives generated values, and ``render`` excludes a profile
whose value is of another XDM type (AEP refuses such a record at ingestion)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings

from connector import exactjson
from connector.activation import parse_activation
from connector.certify.properties import expect, judge
from connector.live_values import XDM_TYPES, conforms, java_double
from connector.render import Exclusion, Payload, Renderer
from connector.strategies import live_values, profiles
from tests.support.activations import DOCUMENTED_IDENTITIES, activation_toml
from tests.support.cli import qharness_text
from tests.support.profiles import AUDIENCE

TYPED = DOCUMENTED_IDENTITIES + "".join(
    f'\n[[attributes]]\nsource = "loyalty.{name}"\ntarget = "{name}"\ntype = "{kind}"\n'
    for name, kind in (
        ("points", "integer"), ("total", "number"), ("tier", "string"), ("vip", "boolean"),
        ("since", "date"), ("seen", "date-time"), ("tags", "array"), ("extra", "object"),
    )
)  # fmt: skip


def profile(**loyalty: object) -> dict[str, object]:
    return {
        "identityMap": {"Email": [{"id": "dave@example.com"}]},
        "loyalty": loyalty,
        "segmentMembership": {
            "ups": {
                AUDIENCE: {"status": "realized", "lastQualificationTime": "2024-01-01T00:00:00Z"}
            }
        },
    }


RENDERER = Renderer(parse_activation(activation_toml(TYPED).encode(), source="typed.toml"))


@pytest.mark.parametrize(
    ("field", "value"),
    [("points", "12"), ("points", 1.5), ("total", "1.0"), ("tier", 7), ("vip", "true"),
     ("since", "2024-02-30T00:00:00Z"), ("seen", "2024-02-29"), ("tags", {}), ("extra", [])],
)  # fmt: skip
def test_a_value_of_another_type_is_excluded_as_invalid_profile(field: str, value: object) -> None:
    """The exclusion names the JSON path, the value's JSON type and the declared XDM type."""
    result = RENDERER.render(profile(**{field: value}))
    assert isinstance(result, Exclusion)
    assert result.reason == "invalid-profile"
    assert result.detail.startswith(f"$.loyalty.{field}: ")
    assert "where the mapping declares XDM type" in result.detail


def test_values_of_the_declared_types_are_sent_exactly() -> None:
    """64-bit integers, Java doubles and the rest arrive as written."""
    values = {
        "points": exactjson.loads(b"9007199254740993"), "total": exactjson.loads(b"1.0E10"),
        "tier": " gold ", "vip": False, "since": "2024-02-29",
        "seen": "2021-10-26T17:41:55.947+0000", "tags": ["a", 1], "extra": {"a": None},
    }  # fmt: skip
    result = RENDERER.render(profile(**values))
    assert isinstance(result, Payload)
    assert b'"points":9007199254740993' in result.body
    assert b'"total":1.0E10' in result.body


@pytest.mark.parametrize("kind", XDM_TYPES)
def test_live_values_conform_to_their_type(kind: str) -> None:
    """Every generated value of a type is one that type holds."""

    @settings(max_examples=60, database=None, deadline=None)
    @given(live_values(kind))
    def check(value: object) -> None:
        assert conforms(value, kind), value

    check()


@pytest.mark.parametrize(
    ("value", "text"),
    [(100.0, "100.0"), (1e10, "1.0E10"), (-0.0, "-0.0"), (0.001, "0.001"), (1e-5, "1.0E-5"),
     (1234567.0, "1234567.0"), (1e7, "1.0E7"), (1.7976931348623157e308, "1.7976931348623157E308")],
)  # fmt: skip
def test_doubles_are_written_as_java_writes_them(value: float, text: str) -> None:
    assert java_double(value) == text


def test_an_unknown_type_is_one_line_naming_the_choices(tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text(activation_toml(TYPED.replace('"integer"', '"int"')), encoding="utf-8")
    code, _, err = qharness_text("sample-profiles", str(path))
    assert code == 2
    assert err.splitlines() == [
        f"error: {path}: attributes[0].type: 'int' is not one of 'string', 'integer', 'number', "
        "'boolean', 'object', 'array', 'date', 'date-time'"
    ]


def test_sample_profiles_follow_the_type_and_cover_every_type_without_one(tmp_path: Path) -> None:
    """Typed: only that type; untyped: strings, 64-bit integers, doubles, booleans, arrays and
    objects among ten samples; numbers as written; every sample renders."""
    path = tmp_path / "a.toml"
    untyped = '\n[[attributes]]\nsource = "lastOrderTotal"\ntarget = "lastOrderTotal"\n'
    path.write_text(activation_toml(TYPED + untyped), encoding="utf-8")
    code, out, _ = qharness_text("sample-profiles", str(path), "--count", "12")
    assert code == 0
    lines = [exactjson.loads(line) for line in out.splitlines()]
    activation = parse_activation(path.read_bytes(), source=str(path))
    renderer = Renderer(activation)
    for line in lines:
        for mapping in activation.attributes[:-1]:
            assert conforms(line["loyalty"][mapping.target], str(mapping.type))
        assert isinstance(renderer.render(line), Payload)
    kinds = {type(line["lastOrderTotal"]).__name__ for line in lines}
    assert {"str", "int", "bool", "list", "dict"} <= kinds
    assert "García" not in out.split('"lastOrderTotal"')[1]
    assert ":9007199254740993" in out


TYPED_ACTIVATION = parse_activation(activation_toml(TYPED).encode(), source="typed.toml")


@settings(max_examples=150, database=None, deadline=None)
@given(profiles(TYPED_ACTIVATION))
def test_certification_judges_typed_profiles_as_render_does(profile: dict[str, object]) -> None:
    """Adversarial profiles (some values of another type): the rules' judge and the renderer
    agree on every one, so certification holds render to the type rule."""
    result = Renderer(TYPED_ACTIVATION).build(profile)
    verdicts = judge(TYPED_ACTIVATION, profile, result, expect(TYPED_ACTIVATION, profile))
    assert verdicts.failures == {}
