"""``contracts diff``: breaking changes between two versions of a JSON Schema, with their paths."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.cli import qharness_text

import contracts
from connector.contracts_diff import diff_schemas

NAMES = st.sampled_from(["id", "email", "name", "status", "items", "a", "b", "x_y"])
LEAVES = st.fixed_dictionaries(
    {"type": st.sampled_from(["string", "integer", "number", "boolean"])},
    optional={
        "minLength": st.integers(0, 5),
        "maxLength": st.integers(5, 50),
        "minimum": st.integers(-10, 0),
        "maximum": st.integers(1, 100),
        "pattern": st.sampled_from(["^a", "^[0-9]+$"]),
        "enum": st.lists(
            st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=3, unique=True
        ),
    },
)


def _objects(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda props, required, closed: {
            "type": "object",
            "properties": props,
            "required": sorted(set(required) & set(props)),
            **({"additionalProperties": False} if closed else {}),
        },
        st.dictionaries(NAMES, children, max_size=4),
        st.lists(NAMES, max_size=3),
        st.booleans(),
    )


SCHEMAS = st.recursive(
    LEAVES,
    lambda children: (
        _objects(children) | st.builds(lambda i: {"type": "array", "items": i}, children)
    ),
    max_leaves=12,
)
OBJECT_SCHEMAS = _objects(SCHEMAS)


@given(SCHEMAS)
def test_a_schema_diffed_with_itself_has_no_changes(schema: dict[str, Any]) -> None:
    assert diff_schemas(schema, copy.deepcopy(schema)) == []


@given(OBJECT_SCHEMAS, st.sampled_from(["brandNew", "another"]))
def test_adding_a_required_property_is_breaking(schema: dict[str, Any], name: str) -> None:
    new = copy.deepcopy(schema)
    new["properties"][name] = {"type": "string"}
    new["required"] = [*new["required"], name]
    changes = diff_schemas(schema, new)
    assert any(c.breaking and c.path == "#/required" and name in c.message for c in changes)


@given(OBJECT_SCHEMAS, st.sampled_from(["brandNew", "another"]))
def test_adding_an_optional_property_is_not_breaking(schema: dict[str, Any], name: str) -> None:
    new = copy.deepcopy(schema)
    new["properties"][name] = {"type": "string"}
    changes = diff_schemas(schema, new)
    assert changes
    assert not any(c.breaking for c in changes)
    assert changes[0].path == f"#/properties/{name}"


@given(OBJECT_SCHEMAS.filter(lambda schema: bool(schema["properties"])))
def test_removing_a_property_is_breaking_and_the_reverse_is_not(schema: dict[str, Any]) -> None:
    """Every example has a property to remove (an early return for empty ones used to skip the
    assertion for about a fifth of them)."""
    name = next(iter(schema["properties"]))
    new = copy.deepcopy(schema)
    del new["properties"][name]
    new["required"] = [r for r in new["required"] if r != name]
    assert any(c.breaking and c.path == f"#/properties/{name}" for c in diff_schemas(schema, new))


def _event() -> dict[str, Any]:
    return contracts.load("qualtrics-event")


@pytest.mark.parametrize(
    ("edit", "path", "word"),
    [
        (
            lambda s: s["properties"]["identityMap"].update(minProperties=2),
            "#/properties/identityMap/minProperties",
            "tightened",
        ),
        (
            lambda s: s["properties"]["identityMap"].__setitem__("type", "array"),
            "#/properties/identityMap/type",
            "narrowed",
        ),
        (
            lambda s: s["definitions"]["timestamp"].update(pattern="^x$"),
            "#/definitions/timestamp/pattern",
            "changed",
        ),
        (
            lambda s: s["definitions"]["timestamp"].update(maxLength=30),
            "#/definitions/timestamp/maxLength",
            "added",
        ),
        (lambda s: s.__setitem__("additionalProperties", False), "#/additionalProperties", "false"),
        (
            lambda s: s["properties"]["segmentMembership"]["properties"]["ups"][
                "additionalProperties"
            ]["properties"]["status"]["enum"].remove("exited"),
            "#/properties/segmentMembership/properties/ups/additionalProperties/properties/status/enum",
            "narrowed",
        ),
        (
            lambda s: s["properties"].__setitem__("idMap", s["properties"].pop("identityMap")),
            "#/properties/identityMap",
            "renamed",
        ),
    ],
)
def test_each_kind_of_breaking_change(edit: Any, path: str, word: str) -> None:
    new = _event()
    edit(new)
    breaking = [c for c in diff_schemas(_event(), new) if c.breaking]
    assert any(c.path == path and word in c.message for c in breaking), breaking


def test_loosening_is_not_breaking() -> None:
    new = _event()
    new["properties"]["identityMap"].pop("minProperties")
    new["properties"]["segmentMembership"].pop("additionalProperties")
    changes = diff_schemas(_event(), new)
    assert len(changes) == 2
    assert not any(c.breaking for c in changes)


def test_cli_exit_codes(tmp_path: Path) -> None:
    """0 without breaking changes, 1 with, 2 for an unreadable file; bundled names accepted."""
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    schema = _event()
    old.write_text(json.dumps(schema))
    code, out, _ = qharness_text("contracts", "diff", str(old), "qualtrics-event")
    assert code == 0
    assert "0 breaking" in out
    schema["required"].append("surveyId")
    new.write_text(json.dumps(schema))
    code, out, _ = qharness_text("contracts", "diff", str(old), str(new))
    assert code == 1
    assert "BREAKING  #/required  'surveyId' is now required" in out
    code, _, err = qharness_text("contracts", "diff", str(old), str(tmp_path / "missing.json"))
    assert code == 2
    assert "cannot read" in err
    (tmp_path / "bad.json").write_text("{")
    code, _, err = qharness_text("contracts", "diff", str(old), str(tmp_path / "bad.json"))
    assert code == 2
    assert "not a JSON document" in err


def test_event_contract_2_shows_the_tightened_identity_entries() -> None:
    """1.0.0 -> 2.0.0: Email entries became exactly {id}, arrays non-empty; the diff says so."""
    history = Path(str(resources.files("contracts").joinpath("history")))
    old = history / "qualtrics-event-1.0.0.schema.json"
    assert json.loads(old.read_text())["$id"].endswith("/1.0.0")
    assert contracts.version("qualtrics-event") == "2.0.0"
    code, out, _ = qharness_text("contracts", "diff", str(old), "qualtrics-event")
    assert code == 1
    email = "#/properties/identityMap/properties/Email"
    assert f"BREAKING  {email}/minItems  minItems 1 added" in out
    assert f"BREAKING  {email}/items/required  'id' is now required" in out
    assert f"BREAKING  {email}/items/additionalProperties" in out
    assert "non-breaking  #/$id" in out
