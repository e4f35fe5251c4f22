"""Loading activations: every rule of the README's "The activation file", errors that say where."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from connector.activation import load_activation, parse_activation
from connector.errors import ActivationError, GovernanceError

BASE = """
[destination]
name = "Post-purchase CSAT"
url = "https://iad1.qualtrics.com/inbound-event/v1/events/json/triggers?urlTokenId=5f1c3a52-7d0e-4c1b-9a43-2b8e6f0d9c71"
username = "cx-team@example.com"
api_token_env = "QUALTRICS_API_TOKEN"
{destination_extra}

[[audiences]]
id = "046456e3-18e1-48a6-9bda-d68547861283"

[[identities]]
source = "Email"
target = "email"
{rest}
"""


def toml(rest: str = "", destination_extra: str = "") -> bytes:
    return BASE.format(rest=rest, destination_extra=destination_extra).encode()


def attribute(source: str, target: str, labels: str = "[]") -> str:
    return f'\n[[attributes]]\nsource = "{source}"\ntarget = "{target}"\nlabels = {labels}\n'


def load(data: bytes, source: str = "act.toml") -> object:
    return parse_activation(data, source=source)


def test_bundled_example_loads(bundled_activation_path: Path) -> None:
    """The bundled example is the documented Email/ECID mapping with first name and mobile."""
    activation = load_activation(bundled_activation_path)
    assert [(i.source, i.target) for i in activation.identities] == [
        ("Email", "email"),
        ("ECID", "external_id"),
    ]
    assert [a.target for a in activation.attributes] == [
        "person.name.firstName",
        "mobilePhone.number",
    ]
    assert activation.warnings == ()
    assert activation.sha256 == hashlib.sha256(bundled_activation_path.read_bytes()).hexdigest()


def test_defaults() -> None:
    """Optional keys take the documented defaults."""
    activation = parse_activation(toml())
    assert activation.destination.description == ""
    assert activation.destination.marketing_actions == ()
    assert activation.attributes == ()
    assert activation.consent is None
    assert activation.fields_derived


def test_json_and_toml_give_the_same_activation(tmp_path: Path) -> None:
    """A JSON activation file loads like its TOML twin."""
    document = {
        "destination": {
            "name": "d",
            "url": "https://iad1.qualtrics.com/x",
            "username": "u",
            "api_token_env": "T",
        },
        "audiences": [{"id": "a"}],
        "identities": [{"source": "ECID", "target": "external_id"}],
        "attributes": [
            {"source": "person.name.firstName", "target": "firstName", "labels": ["C1"]}
        ],
    }
    path = tmp_path / "act.json"
    path.write_text(json.dumps(document))
    activation = load_activation(path)
    assert activation.attributes[0].labels == ("C1",)
    assert activation.identities[0].target == "external_id"


def test_derived_workflow_fields() -> None:
    """Without [[workflow.fields]], one optional field per identity and attribute is derived."""
    activation = parse_activation(toml(attribute("mobilePhone.number", "mobilePhone.number")))
    fields = {f.name: (f.jsonpath, f.required) for f in activation.workflow_fields}
    assert fields == {
        "email": ("$.identityMap.Email[0].id", False),
        "mobilePhone.number": ("$.mobilePhone.number", False),
    }


def test_declared_workflow_fields_know_their_feeder() -> None:
    """A declared field names the mapping that feeds it, or none."""
    rest = attribute("person.name.firstName", "firstName") + (
        '\n[[workflow.fields]]\nname = "email"\njsonpath = "$.identityMap.Email[0].id"\nrequired = true\n'
        '\n[[workflow.fields]]\nname = "order"\njsonpath = "$.order.id"\nrequired = true\n'
        '\n[[workflow.fields]]\nname = "first"\njsonpath = "$.firstName"\n'
    )
    fields = {f.name: f for f in parse_activation(toml(rest)).workflow_fields}
    assert fields["email"].feeds_from == "identities: Email -> email"
    assert fields["order"].feeds_from is None
    assert fields["first"].feeds_from == "attributes: person.name.firstName -> firstName"
    assert fields["first"].required is False


@pytest.mark.parametrize(
    ("data", "key_path", "problem"),
    [
        (
            toml().replace(b'username = "cx-team@example.com"', b""),
            "destination.username",
            "required key is missing",
        ),
        (
            b'[destination]\nname = "x"\n',
            "destination.url",
            "required key is missing",  # and four more lines: see test_every_problem_is_said
        ),
        (
            toml().replace(b'target = "email"', b'target = "phone"'),
            "identities[0].target",
            "'phone' is not one of",
        ),
        (
            toml().replace(b"[[identities]]", b"[[identities_]]"),
            "identities_",  # a probable typo is named as one, not as the key it hides
            "unknown key; did you mean 'identities'? ('identities' is required and missing)",
        ),
        (toml(destination_extra='api_token = "s3cr3t"'), "destination.api_token", "unknown key"),
        (
            toml().replace(b'name = "Post-purchase CSAT"', b"name = 5"),
            "destination.name",
            "expected a string",
        ),
        (
            toml().replace(b'"QUALTRICS_API_TOKEN"', b'"not a var"'),
            "destination.api_token_env",
            "environment variable",
        ),
        (
            toml().replace(b'url = "https://', b'url = "ftp://'),
            "destination.url",
            "absolute http(s) URL",
        ),
        (toml(attribute("person..name", "x")), "attributes[0].source", "dotted path"),
    ],
)
def test_schema_errors_name_file_key_path_and_problem(
    data: bytes, key_path: str, problem: str
) -> None:
    """Each mistake is reported as `file: key.path: problem`."""
    with pytest.raises(ActivationError) as info:
        load(data)
    assert info.value.file == "act.toml"
    assert info.value.key_path == key_path
    assert problem in info.value.problem
    assert str(info.value).startswith(f"act.toml: {key_path}: ")


def test_the_token_value_never_appears_in_an_error() -> None:
    """A token pasted into the file is refused without echoing it."""
    with pytest.raises(ActivationError) as info:
        load(toml(destination_extra='api_token = "s3cr3t-value"'))
    assert "s3cr3t-value" not in str(info.value)


@pytest.mark.parametrize(
    ("data", "source", "problem"),
    [
        (b"[destination\n", "a.toml", "invalid TOML"),
        (b'{"destination": ', "a.json", "invalid JSON"),
        (b"\xff\xfe[destination]", "a.toml", "not UTF-8"),
    ],
)
def test_unparseable_files(data: bytes, source: str, problem: str) -> None:
    """Syntax errors name the file and the parser's position."""
    with pytest.raises(ActivationError, match=problem) as info:
        load(data, source)
    assert info.value.file == source


def test_missing_file(tmp_path: Path) -> None:
    """A file that is not there is a clear error naming it."""
    with pytest.raises(ActivationError, match="cannot read the file") as info:
        load_activation(tmp_path / "nope.toml")
    assert info.value.file.endswith("nope.toml")


def test_deeply_nested_json_is_an_error_not_a_crash() -> None:
    """A hostile document nested 100,000 deep is refused cleanly."""
    with pytest.raises(ActivationError):
        load(b"[" * 100_000 + b"]" * 100_000, "a.json")


@pytest.mark.parametrize("target", ["identityMap", "segmentMembership.ups", "identityMap.Email"])
def test_reserved_targets_are_errors(target: str) -> None:
    """The renderer owns identityMap and segmentMembership."""
    with pytest.raises(ActivationError, match="reserved") as info:
        load(toml(attribute("a.b", target)))
    assert info.value.key_path == "attributes[0].target"


@pytest.mark.parametrize(("first", "second"), [("a", "a.b"), ("a.b", "a"), ("a.b", "a.b")])
def test_conflicting_targets_are_errors(first: str, second: str) -> None:
    """`a` and `a.b` cannot both be filled; neither can one target twice."""
    with pytest.raises(ActivationError) as info:
        load(toml(attribute("x", first) + attribute("y", second)))
    assert info.value.key_path == "attributes[1].target"
    assert "attributes[0].target" in info.value.problem


def test_duplicate_audiences_and_namespaces() -> None:
    """An audience or a namespace listed twice is a mistake."""
    twice = toml() + b'\n[[audiences]]\nid = "046456e3-18e1-48a6-9bda-d68547861283"\n'
    with pytest.raises(ActivationError, match="appears twice") as info:
        load(twice)
    assert info.value.key_path == "audiences[1].id"
    again = toml() + b'\n[[identities]]\nsource = "Email"\ntarget = "external_id"\n'
    with pytest.raises(ActivationError, match="appears twice"):
        load(again)


@pytest.mark.parametrize("label", ["C2", "C12"])
def test_governance_clash_blocks_and_names_fields(label: str) -> None:
    """C2/C12 on a mapped field with exportToThirdParty blocks the activation."""
    rest = attribute("person.name.firstName", "firstName", f'["{label}"]') + attribute("x.y", "y")
    data = toml(rest, destination_extra='marketing_actions = ["exportToThirdParty"]')
    with pytest.raises(GovernanceError) as info:
        load(data)
    assert info.value.fields == ("person.name.firstName",)
    assert "person.name.firstName" in str(info.value)
    assert "exportToThirdParty" in str(info.value)


@pytest.mark.parametrize(
    "actions", ["", "marketing_actions = []", 'marketing_actions = ["emailTargeting"]']
)
def test_c12_blocks_whatever_the_marketing_actions(actions: str) -> None:
    """C12 means no export at all: a mapped C12 field blocks with any or no marketing action."""
    rest = attribute("x.y", "y") + attribute("person.name.firstName", "firstName", '["C12"]')
    with pytest.raises(GovernanceError) as info:
        load(toml(rest, destination_extra=actions))
    assert info.value.fields == ("person.name.firstName",)
    assert info.value.key_path == "attributes[1].labels"
    assert "C12" in str(info.value)
    assert "forbids any export" in str(info.value)


def test_labels_without_the_marketing_action_are_fine() -> None:
    """Without exportToThirdParty, a C2 label does not block."""
    assert parse_activation(toml(attribute("a.b", "b", '["C2", "I1"]'))).attributes[0].labels == (
        "C2",
        "I1",
    )


def test_warnings_for_non_camel_case_and_too_many_fields() -> None:
    """Soft problems are warnings, not errors."""
    rest = attribute("a.b", "First_Name") + "".join(
        attribute(f"s.f{i}", f"field{i}") for i in range(10)
    )
    activation = parse_activation(toml(rest), source="act.toml")
    assert any("First_Name" in w and "camelCase" in w for w in activation.warnings)
    assert any("Qualtrics' JSON Event docs" in w for w in activation.warnings)
    assert not any("Adobe" in w for w in activation.warnings)
    assert any("12 workflow fields" in w for w in activation.warnings)


def test_invalid_declared_jsonpath() -> None:
    """A workflow field's JSONPath must be one the mock takes (the contract's pattern)."""
    rest = '\n[[workflow.fields]]\nname = "x"\njsonpath = "$["\n'
    with pytest.raises(ActivationError, match="is not a JSONPath such as") as info:
        load(toml(rest))
    assert info.value.key_path == "workflow.fields[0].jsonpath"
    assert "\n" not in str(info.value)


def test_repr_hides_the_url_token() -> None:
    """The urlTokenId works like a password and stays out of reprs."""
    activation = parse_activation(toml())
    assert "5f1c3a52" not in repr(activation)
    assert "5f1c3a52" not in repr(activation.destination)


def test_c12_without_marketing_actions_exits_2_naming_the_field(tmp_path: Path) -> None:
    """``qharness render`` refuses a C12 mapping in one line, exit 2, naming the field."""
    from support.cli import qharness

    path = tmp_path / "c12.toml"
    path.write_bytes(toml(attribute("person.name.firstName", "firstName", '["C12"]')))
    done = qharness("render", str(path), "-")
    assert done.returncode == 2
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1
    assert "person.name.firstName" in lines[0]
    assert "C12" in lines[0]
