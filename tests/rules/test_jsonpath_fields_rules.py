"""The rules of a run's fields, word for word: what a workflow's field matches, and the error a
run gets for a required field that is missing, null or empty (``mock_qualtrics.jsonpath_fields``).
"""

from __future__ import annotations

import pytest

from mock_qualtrics.jsonpath_fields import FieldSpec, compile_path, extract

EMAIL = "$.identityMap.Email[0].id"


def _deep(levels: int) -> dict[str, object]:
    document: dict[str, object] = {}
    node = document
    for _ in range(levels):
        node["a"] = {}
        node = node["a"]  # type: ignore[assignment]
    return document


def test_a_path_that_is_not_jsonpath_is_refused_with_the_librarys_reason() -> None:
    with pytest.raises(ValueError, match=r"^not a valid JSONPath \(unexpected end of query\)$"):
        compile_path("$[")


def test_a_field_is_optional_unless_it_says_required() -> None:
    spec = FieldSpec("email", EMAIL)
    assert extract([spec], {}) == ({}, None)
    assert extract([spec], {"identityMap": {"Email": [{"id": None}]}}) == ({"email": None}, None)


def test_a_field_shows_and_compares_by_its_three_settings() -> None:
    spec = FieldSpec("email", "$.a[*]", required=True)
    assert repr(spec) == "FieldSpec(name='email', jsonpath='$.a[*]', required=True)"
    assert spec.as_dict() == {"name": "email", "jsonpath": "$.a[*]", "required": True}
    assert spec == FieldSpec("email", "$.a[*]", required=True)


@pytest.mark.parametrize(
    ("email", "error"),
    [
        (None, f"required field 'email' ({EMAIL}) is null"),
        ("", f"required field 'email' ({EMAIL}) is an empty string (\"\")"),
        (0, None),
        (False, None),
        ("a@example.com", None),
    ],
)
def test_a_required_field_that_is_null_or_empty_fails_the_run(
    email: object, error: str | None
) -> None:
    document = {"identityMap": {"Email": [{"id": email}]}}
    values, problem = extract([FieldSpec("email", EMAIL, required=True)], document)
    assert values == {"email": email}
    assert problem == error


def test_every_required_field_that_fails_is_named_in_one_error() -> None:
    fields = [
        FieldSpec("email", EMAIL, required=True),
        FieldSpec("ecid", "$.identityMap.ECID[0].id", required=True),
        FieldSpec("tier", "$.tier"),
    ]
    values, problem = extract(fields, {"identityMap": {"Email": [{"id": ""}]}, "tier": "gold"})
    assert values == {"email": "", "tier": "gold"}
    assert problem == (
        f"required field 'email' ({EMAIL}) is an empty string (\"\"); "
        "required field 'ecid' ($.identityMap.ECID[0].id) matched nothing"
    )


def test_a_document_the_library_cannot_walk_matches_nothing() -> None:
    """A descent deeper than Python's recursion limit raises inside the library: the run gets
    'matched nothing', not a 500 (the mock's body depth limit normally stops such a body first)."""
    spec = FieldSpec("b", "$..b", required=True)  # no "b": the search walks every level
    assert spec.first_match(_deep(3000)) == (False, None)
    assert extract([spec], _deep(3000)) == ({}, "required field 'b' ($..b) matched nothing")


@pytest.mark.parametrize("path", [EMAIL, "$..id", "$[*]", "$.identityMap"])
def test_nothing_in_a_string_is_selected_however_it_reads(path: str) -> None:
    """A document that is one string (JSON encoded twice) holds no members: no query but the
    root selects anything in it, though the string spells a JSON object."""
    twice = '{"identityMap": {"Email": [{"id": "a@example.com"}]}}'
    assert FieldSpec("email", path).first_match(twice) == (False, None)
    assert FieldSpec("body", "$").first_match(twice) == (True, twice)
