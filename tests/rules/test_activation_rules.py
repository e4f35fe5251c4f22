"""Activation rules the example tests leave open: workflow fields (declared and derived), the
10-field warning, consent, JSON or TOML by suffix, a BOM, and every destination/audience field.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.activation import (
    MAX_MANUAL_FIELDS,
    Audience,
    Consent,
    Destination,
    WorkflowField,
    parse_activation,
)
from connector.errors import ActivationError
from connector.model import SDK_ATTRIBUTES, AttributeMapping, sdk_attribute
from connector.workflow_fields import cap_fields, mock_fields

AUDIENCE = "046456e3-18e1-48a6-9bda-d68547861283"
URL = "https://iad1.qualtrics.com/inbound-event/v1/events/json/triggers?urlTokenId=secret-id"
HEAD = f"""
[destination]
name = "CSAT"
url = "{URL}"
username = "u"
api_token_env = "QUALTRICS_API_TOKEN"
description = "Post-purchase survey"
marketing_actions = ["emailTargeting"]

[[audiences]]
id = "{AUDIENCE}"
name = "Buyers"

[[identities]]
source = "Email"
target = "email"
"""


def toml(extra: str = "") -> bytes:
    return (HEAD + extra).encode()


def attributes(n: int) -> str:
    return "".join(f'\n[[attributes]]\nsource = "a.f{i}"\ntarget = "f{i}"\n' for i in range(n))


def test_destination_and_audience_fields_are_parsed_whole() -> None:
    """Every destination and audience key arrives in the Activation, unchanged."""
    activation = parse_activation(toml(), source="a.toml")
    assert activation.destination == Destination(
        name="CSAT",
        url=URL,
        username="u",
        api_token_env="QUALTRICS_API_TOKEN",
        description="Post-purchase survey",
        marketing_actions=("emailTargeting",),
    )
    assert activation.audiences == (Audience(AUDIENCE, "Buyers"),)
    assert activation.audience_ids == (AUDIENCE,)
    assert activation.source == "a.toml"
    assert "secret-id" not in repr(activation.destination)
    assert "urlTokenId=***" in repr(activation.destination)


def test_optional_fields_default_empty() -> None:
    """Without description, marketing actions, audience name or consent: empty values."""
    text = HEAD.replace('description = "Post-purchase survey"\n', "")
    text = text.replace('marketing_actions = ["emailTargeting"]\n', "").replace(
        'name = "Buyers"\n', ""
    )
    activation = parse_activation(text.encode(), source="a.toml")
    assert (activation.destination.description, activation.destination.marketing_actions) == (
        "",
        (),
    )
    assert activation.audiences == (Audience(AUDIENCE, ""),)
    assert activation.consent is None
    assert activation.warnings == ()


def test_consent_is_parsed() -> None:
    """[consent] gives its path and allowed values, in order."""
    activation = parse_activation(
        toml('\n[consent]\npath = "consents.marketing.email.val"\nallow = ["y", "p"]\n'),
        source="a.toml",
    )
    assert activation.consent == Consent("consents.marketing.email.val", ("y", "p"))


@given(st.integers(0, 14))
def test_more_than_ten_fields_warns_exactly_above_ten(extra: int) -> None:
    """1 identity + n attributes derive 1+n fields; a warning appears iff that is over 10."""
    activation = parse_activation(toml(attributes(extra)), source="a.toml")
    count = 1 + extra
    assert len(activation.workflow_fields) == count
    warning = (
        f"a.toml: {count} workflow fields; a Qualtrics workflow defines at most 10 by hand "
        "(the rest need event capture)"
    )
    assert (warning in activation.warnings) is (count > MAX_MANUAL_FIELDS)
    assert MAX_MANUAL_FIELDS == 10


def test_derived_fields_name_their_mapping_and_path() -> None:
    """Each derived field: the target as name, its JSONPath, optional, and where it comes from."""
    activation = parse_activation(
        toml('\n[[identities]]\nsource = "ECID"\ntarget = "external_id"\n' + attributes(1)),
        source="a.toml",
    )
    assert activation.fields_derived is True
    assert activation.workflow_fields == (
        WorkflowField("email", "$.identityMap.Email[0].id", False, "identities: Email -> email"),
        WorkflowField(
            "external_id", "$.identityMap.ECID[0].id", False, "identities: ECID -> external_id"
        ),
        WorkflowField("f0", "$.f0", False, "attributes: a.f0 -> f0"),
    )


def test_derived_identity_names_are_made_unique() -> None:
    """Three namespaces onto ``external_id`` give external_id, external_id_2, external_id_3."""
    extra = "".join(
        f'\n[[identities]]\nsource = "{ns}"\ntarget = "external_id"\n'
        for ns in ("ECID", "CRM", "Loyalty-ID")
    )
    activation = parse_activation(toml(extra), source="a.toml")
    assert [f.name for f in activation.workflow_fields] == [
        "email",
        "external_id",
        "external_id_2",
        "external_id_3",
    ]
    assert activation.workflow_fields[3].jsonpath == "$.identityMap['Loyalty-ID'][0].id"


def test_declared_fields_keep_their_properties() -> None:
    """Declared fields keep name, JSONPath and ``required``; each names the mapping that feeds it."""
    activation = parse_activation(
        toml(
            attributes(1) + "\n[workflow]\nfields = [\n"
            '  { name = "mail", jsonpath = "$.identityMap.Email[0].id", required = true },\n'
            '  { name = "first", jsonpath = "$.f0" },\n'
            '  { name = "other", jsonpath = "$.nowhere" },\n'
            "]\n"
        ),
        source="a.toml",
    )
    assert activation.fields_derived is False
    assert activation.workflow_fields == (
        WorkflowField("mail", "$.identityMap.Email[0].id", True, "identities: Email -> email"),
        WorkflowField("first", "$.f0", False, "attributes: a.f0 -> f0"),
        WorkflowField("other", "$.nowhere", False, None),
    )


def test_a_duplicate_declared_field_name_is_refused() -> None:
    """Two workflow fields with one name: refused, pointing at the second."""
    with pytest.raises(ActivationError) as caught:
        parse_activation(
            toml(
                '\n[workflow]\nfields = [\n  { name = "x", jsonpath = "$.a" },\n'
                '  { name = "x", jsonpath = "$.b" },\n]\n'
            ),
            source="a.toml",
        )
    assert caught.value.key_path == "workflow.fields[1].name"
    assert str(caught.value) == "a.toml: workflow.fields[1].name: field name 'x' appears twice"


def test_a_duplicate_audience_names_both_places() -> None:
    """An audience listed twice is refused at the second, naming the first."""
    with pytest.raises(ActivationError) as caught:
        parse_activation(toml(f'\n[[audiences]]\nid = "{AUDIENCE}"\n'), source="a.toml")
    assert str(caught.value) == (
        f"a.toml: audiences[1].id: audience '{AUDIENCE}' appears twice (also at audiences[0])"
    )


def _as_json() -> bytes:
    import tomllib

    return json.dumps(tomllib.loads(HEAD)).encode()


@pytest.mark.parametrize("source", ["a.json", "A.JSON", "a", "<stdin>"])
def test_json_is_read_by_suffix_or_by_content(source: str) -> None:
    """A .json file, or one without a .toml suffix starting with ``{``, is JSON."""
    assert parse_activation(_as_json(), source=source).destination.name == "CSAT"


def test_a_toml_suffix_is_toml_even_if_it_starts_with_a_brace() -> None:
    """``.toml`` decides: a JSON body there is a TOML error, named as such."""
    with pytest.raises(ActivationError, match=r"^a\.TOML: invalid TOML: "):
        parse_activation(_as_json(), source="a.TOML")


def test_a_json_suffix_is_json_even_if_it_looks_like_toml() -> None:
    """``.json`` decides: a TOML body there is a JSON error with line and column."""
    with pytest.raises(ActivationError, match=r"^a\.json: invalid JSON: .* \(line 2, column 2\)$"):
        parse_activation(toml(), source="a.json")


@pytest.mark.parametrize("source", ["a.toml", "a.json"])
def test_a_utf8_bom_is_ignored(source: str) -> None:
    """A leading UTF-8 BOM (as Windows editors write) is skipped, in TOML and JSON alike."""
    data = toml() if source.endswith(".toml") else _as_json()
    activation = parse_activation(b"\xef\xbb\xbf" + data, source=source)
    assert activation.destination.name == "CSAT"


def test_a_bom_before_json_without_a_suffix_is_json() -> None:
    """Content sniffing happens after the BOM is removed."""
    assert parse_activation(b"\xef\xbb\xbf" + _as_json(), source="-").destination.name == "CSAT"


def test_not_utf8_names_the_byte() -> None:
    """Bytes that are not UTF-8: the offset and the byte."""
    with pytest.raises(ActivationError) as caught:
        parse_activation(b"name = 1\n\xff", source="a.toml")
    assert str(caught.value) == "a.toml: not UTF-8 text (byte 9: b'\\xff')"


def test_the_file_digest_is_of_the_bytes_as_read() -> None:
    """``sha256`` is the digest of the exact bytes (BOM included), for reports."""
    import hashlib

    data = b"\xef\xbb\xbf" + toml()
    assert parse_activation(data, source="a.toml").sha256 == hashlib.sha256(data).hexdigest()


def _error(text: str) -> str:
    with pytest.raises(ActivationError) as caught:
        parse_activation(text.encode(), source="a.toml")
    return str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('url = "https', 'url = "ftp', "a.toml: destination.url: 'ftp://iad1.qualtrics.com/"),
        ('api_token_env = "QUALTRICS_API_TOKEN"', 'api_token_env = "1-X"',
         "a.toml: destination.api_token_env: '1-X' is not an environment variable name (letters, digits, _)"),
        ('username = "u"', 'username = ""', "a.toml: destination.username: must not be empty"),
        ('username = "u"', "username = 5", "a.toml: destination.username: expected a string, got int 5"),
        ('marketing_actions = ["emailTargeting"]', "marketing_actions = 1",
         "a.toml: destination.marketing_actions: expected an array, got int 1"),
        ('target = "email"', 'target = "phone"',
         "a.toml: identities[0].target: 'phone' is not one of 'email', 'external_id'"),
    ],
)  # fmt: skip
def test_schema_errors_name_the_key_and_say_what_is_expected(
    old: str, new: str, message: str
) -> None:
    """Each kind of schema error: the key path in TOML terms and a plain description."""
    assert _error(HEAD.replace(old, new, 1)).startswith(message)


def test_url_pattern_error_says_absolute_url() -> None:
    """A URL that is not http(s) is described as such."""
    assert _error(HEAD.replace('url = "https', 'url = "ftp', 1)).endswith(
        "is not an absolute http(s) URL"
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (f'url = "{URL}"', f'url = "{URL}\\n"', "a.toml: destination.url: "),
        ('api_token_env = "QUALTRICS_API_TOKEN"', 'api_token_env = "QUALTRICS_API_TOKEN\\n"',
         "a.toml: destination.api_token_env: 'QUALTRICS_API_TOKEN\\n' is not an environment"),
    ],
)  # fmt: skip
def test_a_value_ending_in_a_newline_is_an_error_not_a_crash(
    old: str, new: str, message: str
) -> None:
    """JSON Schema's ``$`` is ECMA-262's (end of input): a trailing newline breaks a pattern, and
    the error explaining it is found by the same reading (it used to be an IndexError)."""
    error = _error(HEAD.replace(old, new, 1))
    assert error.startswith(message)
    assert "secret-id" not in error


def test_a_bad_workflow_jsonpath_is_described() -> None:
    """A workflow field JSONPath not starting with $ says so."""
    text = HEAD + '\n[workflow]\nfields = [{ name = "x", jsonpath = "a.b" }]\n'
    assert (
        _error(text)
        == "a.toml: workflow.fields[0].jsonpath: 'a.b' is not a JSONPath such as $.identityMap.Email[0].id ($, then .name, [0], [*] or ['name'] steps)"
    )


def test_a_bad_dotted_path_is_described() -> None:
    """An attribute source that is not a dotted path gets the example."""
    text = HEAD + '\n[[attributes]]\nsource = "a..b"\ntarget = "x"\n'
    assert _error(text) == (
        "a.toml: attributes[0].source: 'a..b' is not a dotted path such as person.name.firstName"
    )


def test_no_audiences_needs_at_least_one() -> None:
    """An empty audiences list: needs at least 1 entry."""
    text = HEAD.replace(f'[[audiences]]\nid = "{AUDIENCE}"\nname = "Buyers"\n', "audiences = []\n")
    text = text.replace("audiences = []\n", "")
    text = "audiences = []\n" + text
    assert _error(text) == "a.toml: audiences: needs at least 1 entry"


def test_errors_come_in_reading_order_one_line_each() -> None:
    """Several problems: every one is said, one line each, in file order."""
    text = HEAD.replace('username = "u"', 'username = ""').replace(
        'target = "email"', 'target = "x"'
    )
    assert _error(text).splitlines() == [
        "a.toml: destination.username: must not be empty",
        "a.toml: identities[0].target: 'x' is not one of 'email', 'external_id'",
    ]
    text = text.replace('api_token_env = "QUALTRICS_API_TOKEN"', 'api_token_env = ""')
    assert len(_error(text).splitlines()) == 3


def test_a_missing_table_is_named_in_reading_order() -> None:
    """Missing destination and identities: destination first, as a reader meets it."""
    text = f'[[audiences]]\nid = "{AUDIENCE}"\n'
    assert _error(text).splitlines() == [
        "a.toml: destination: required key is missing",
        "a.toml: identities: required key is missing",
    ]


def test_an_unknown_key_suggests_or_lists_the_allowed_ones() -> None:
    """A near miss gets a suggestion; anything else lists the keys allowed there."""
    text = HEAD + '\n[consent]\npath = "a.b"\nallow = ["y"]\n'
    assert (
        _error(text + "allwo = 1\n") == "a.toml: consent.allwo: unknown key; did you mean 'allow'?"
    )
    assert (
        _error(text + "zzz = 1\n") == "a.toml: consent.zzz: unknown key (allowed here: allow, path)"
    )


def test_a_duplicate_identity_namespace_is_named() -> None:
    """The same identityMap namespace twice."""
    text = HEAD + '\n[[identities]]\nsource = "Email"\ntarget = "external_id"\n'
    assert _error(text) == (
        "a.toml: identities[1].source: identityMap namespace 'Email' appears twice (also at identities[0])"
    )


@pytest.mark.parametrize(
    ("second", "clash"),
    [("f0", "is the same target as 'f0'"), ("f0.x", "conflicts with 'f0'")],
)
def test_target_clashes_are_worded_by_kind(second: str, clash: str) -> None:
    """The same target twice, or a value and an object at one path."""
    text = HEAD + attributes(1) + f'\n[[attributes]]\nsource = "a.z"\ntarget = "{second}"\n'
    assert _error(text) == (
        f"a.toml: attributes[1].target: '{second}' {clash} (attributes[0].target): "
        "one payload path cannot hold both a value and an object"
    )


@pytest.mark.parametrize(
    ("jsonpath", "feeds"),
    [
        ("$['f0']", "attributes: a.f0 -> f0"),
        ('$["f0"]', "attributes: a.f0 -> f0"),
        ("$.f0.deeper", "attributes: a.f0 -> f0"),
        ("$.f0[0]", "attributes: a.f0 -> f0"),
        ("$.f01", None),
        ("$.identityMap.Email", "identities: Email -> email"),
        ("$.identityMap['Email'][0].id", "identities: Email -> email"),
        ("$.identityMap.Phone[0].id", None),
        ("$.segmentMembership.ups", "audiences"),  # the activated audiences feed it
    ],
)
def test_declared_fields_find_the_mapping_behind_them(jsonpath: str, feeds: str | None) -> None:
    """Dot or bracket notation, the path itself or under it: the feeding mapping is found."""
    text = (
        HEAD
        + attributes(1)
        + f'\n[workflow]\nfields = [{{ name = "x", jsonpath = {json.dumps(jsonpath)} }}]\n'
    )
    activation = parse_activation(text.encode(), source="a.toml")
    assert activation.workflow_fields[0].feeds_from == feeds


def test_a_missing_file_names_the_os_reason(tmp_path: Path) -> None:
    """An unreadable path: the OS's own reason, after the file name."""
    from connector.activation import load_activation

    missing = tmp_path / "nope.toml"
    with pytest.raises(ActivationError) as caught:
        load_activation(missing)
    assert str(caught.value) == f"{missing}: cannot read the file: No such file or directory"


def test_load_activation_reads_the_file_it_names(tmp_path: Path) -> None:
    """A readable file loads, with its path as the source."""
    from connector.activation import load_activation

    path = tmp_path / "a.json"
    path.write_bytes(_as_json())
    activation = load_activation(str(path))
    assert (activation.source, activation.destination.name) == (str(path), "CSAT")


def test_deep_nesting_is_named() -> None:
    """A document nested past the parser's recursion limit: one plain line."""
    with pytest.raises(ActivationError) as caught:
        parse_activation(b"[" * 100_000 + b"]" * 100_000, source="a.json")
    assert str(caught.value) == "a.json: document nested too deeply"


@pytest.mark.parametrize("target", ["identityMap", "segmentMembership.ups"])
def test_a_reserved_target_is_worded(target: str) -> None:
    """A mapping onto a key the renderer fills: named, with why."""
    text = HEAD + f'\n[[attributes]]\nsource = "a.b"\ntarget = "{target}"\n'
    first = target.split(".")[0]
    assert _error(text) == (
        f"a.toml: attributes[0].target: {target!r} is reserved: the payload's {first} is filled "
        "from the identity mappings and audiences"
    )


@pytest.mark.parametrize(
    ("target", "warning"),
    [
        ("Bad", "'Bad' is not camelCase;"),
        ("person.First_name", "'person.First_name' is not camelCase ('First_name');"),
        ("A.b.C", "'A.b.C' is not camelCase ('A', 'C');"),
    ],
)
def test_a_non_camel_case_target_warns_with_its_bad_keys(target: str, warning: str) -> None:
    """A non-camelCase target is a warning naming the offending keys (unless it is the only key)."""
    text = HEAD + f'\n[[attributes]]\nsource = "a.b"\ntarget = "{target}"\n'
    activation = parse_activation(text.encode(), source="a.toml")
    assert activation.warnings == (
        f"a.toml: attributes[0].target: {warning} "
        "Qualtrics' JSON Event docs recommend camelCase field names",
    )


def test_camel_case_targets_do_not_warn() -> None:
    """camelCase keys with digits, dotted: no warning."""
    text = HEAD + '\n[[attributes]]\nsource = "a.b"\ntarget = "person.firstName2"\n'
    assert parse_activation(text.encode(), source="a.toml").warnings == ()


def test_a_target_extending_an_earlier_one_names_it() -> None:
    """``a.b`` after ``a.b.c``: conflicts with the earlier, longer target, at its index."""
    text = HEAD + "".join(
        f'\n[[attributes]]\nsource = "s.{i}"\ntarget = "{t}"\n'
        for i, t in enumerate(["z", "a.b.c", "a.b.d", "a.b"])
    )
    assert _error(text) == (
        "a.toml: attributes[3].target: 'a.b' conflicts with 'a.b.c' (attributes[1].target): "
        "one payload path cannot hold both a value and an object"
    )


def _labelled(actions: str, *mappings: tuple[str, str]) -> str:
    text = HEAD.replace('marketing_actions = ["emailTargeting"]', f"marketing_actions = {actions}")
    for index, (target, labels) in enumerate(mappings):
        text += f'\n[[attributes]]\nsource = "p.s{index}"\ntarget = "{target}"\nlabels = {labels}\n'
    return text


def test_governance_c12_alone_is_worded() -> None:
    """C12 without the third-party action: any export is forbidden; remove the mapping."""
    from connector.errors import GovernanceError

    text = _labelled('["emailTargeting"]', ("ok", '["C1"]'), ("x", '["C12", "C2", "C12"]'))
    with pytest.raises(GovernanceError) as caught:
        parse_activation(text.encode(), source="a.toml")
    assert str(caught.value) == (
        "a.toml: attributes[1].labels: governance: C12 forbids any export: p.s1 (C12); "
        "remove the mapping"
    )
    assert caught.value.fields == ("p.s1",)


def test_governance_c12_and_c2_with_third_party_is_worded() -> None:
    """Both labels with exportToThirdParty: both reasons, every clashing mapping, sorted labels."""
    from connector.errors import GovernanceError

    text = _labelled(
        '["exportToThirdParty"]', ("ok", '["C1"]'), ("x", '["C2"]'), ("y", '["C2", "C12"]')
    )
    with pytest.raises(GovernanceError) as caught:
        parse_activation(text.encode(), source="a.toml")
    assert str(caught.value) == (
        "a.toml: attributes[1].labels: governance: C12 forbids any export and C2 forbids "
        "'exportToThirdParty': p.s1 (C2), p.s2 (C12, C2); remove the mapping"
    )
    assert caught.value.fields == ("p.s1", "p.s2")


def test_governance_c2_with_third_party_is_worded() -> None:
    """C2 with exportToThirdParty: the action is not allowed; remove it or the mapping."""
    from connector.errors import GovernanceError

    text = _labelled('["emailTargeting", "exportToThirdParty"]', ("x", '["C2", "C2"]'))
    with pytest.raises(GovernanceError) as caught:
        parse_activation(text.encode(), source="a.toml")
    assert str(caught.value) == (
        "a.toml: attributes[0].labels: governance: marketing action 'exportToThirdParty' is not "
        "allowed: p.s0 (C2); remove the mapping or the marketing action"
    )


def test_c2_without_third_party_and_other_labels_pass() -> None:
    """C2 alone, or labels that block nothing: loads, labels kept."""
    text = _labelled('["emailTargeting"]', ("x", '["C2", "C5"]'))
    assert parse_activation(text.encode(), source="a.toml").attributes[0].labels == ("C2", "C5")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEAD + '\n[workflow]\nfields = [{ name = "x", jsonpath = "$.a", required = "yes" }]\n',
         "a.toml: workflow.fields[0].required: expected a boolean, got str 'yes'"),
        (HEAD.replace('username = "u"', 'usernme = "u"'),
         "a.toml: destination.usernme: unknown key; did you mean 'username'? "
         "('username' is required and missing)"),
        (HEAD.replace("description =", "descripton ="),
         "a.toml: destination.descripton: unknown key; did you mean 'description'?"),
        (HEAD.replace("[[audiences]]", "[[xaudiences]]"),
         "a.toml: xaudiences: unknown key; did you mean 'audiences'? "
         "('audiences' is required and missing)"),
        (HEAD + '\n[consent]\npath = "a.b"\nallow = []\n',
         "a.toml: consent.allow: needs at least 1 entry"),
        (HEAD + '\n[workflow]\nfields = [{ name = "x", jsonpath = "$.a[" }]\n',
         "a.toml: workflow.fields[0].jsonpath: '$.a[' is not a JSONPath such as $.identityMap.Email[0].id ($, then .name, [0], [*] or ['name'] steps)"),
        ("zzz = 1\n" + HEAD,
         "a.toml: zzz: unknown key (allowed here: attributes, audiences, consent, destination, "
         "identities, workflow)"),
        ("[[audiences]]" + HEAD.split("[[audiences]]")[1],
         "a.toml: destination: required key is missing"),
        (HEAD.replace('name = "CSAT"', 'name = ""'), "a.toml: destination.name: must not be empty"),
        (HEAD + '\n[workflow]\nfields = [{ name = "", jsonpath = "$.a" }]\n',
         "a.toml: workflow.fields[0].name: must not be empty"),
        (HEAD + '\n[workflow]\nfields = [{ name = " ", jsonpath = "$.a" }]\n',
         "a.toml: workflow.fields[0].name: ' ' is not a name with a visible character"),
        (HEAD + f'\n[workflow]\nfields = [{{ name = "{"f" * 201}", jsonpath = "$.a" }}]\n',
         "a.toml: workflow.fields[0].name: is 201 characters; at most 200 are taken"),
        # too long and blank: one string rule per value, the first in the schema's order
        (HEAD + f'\n[workflow]\nfields = [{{ name = "{" " * 201}", jsonpath = "$.a" }}]\n',
         "a.toml: workflow.fields[0].name: is 201 characters; at most 200 are taken"),
    ],
)  # fmt: skip
def test_more_schema_errors_are_worded_exactly(text: str, message: str) -> None:
    """Booleans, typos (with the missing key they explain), minItems, JSONPath syntax, top level,
    a blank or too long field name (said by its length, never echoed)."""
    assert _error(text) == message


def test_a_non_object_document_is_described_at_the_top_level() -> None:
    """A JSON array where the activation table should be."""
    with pytest.raises(ActivationError) as caught:
        parse_activation(b"[1]", source="a.json")
    assert str(caught.value) == "a.json: (top level): expected a table/object, got list [1]"


def test_a_long_wrong_value_is_cut_at_300_characters() -> None:
    """The echoed value is bounded: the problem is exactly 300 characters."""
    values = ",".join(['"' + "x" * 50 + '"'] * 10)
    with pytest.raises(ActivationError) as caught:
        parse_activation(
            HEAD.replace('username = "u"', f"username = [{values}]").encode(), source="a.toml"
        )
    assert caught.value.problem.startswith("expected a string, got list ['xxxxx")
    assert len(caught.value.problem) == 300


_NO_AUDIENCE = f'[[audiences]]\nid = "{AUDIENCE}"\nname = "Buyers"\n'
_NO_IDENTITY = '[[identities]]\nsource = "Email"\ntarget = "email"\n'


@pytest.mark.parametrize(
    ("text", "first"),
    [
        (HEAD.replace('username = "u"', 'username = ""').replace(_NO_AUDIENCE, "")
         .replace("[destination]", "audiences = []\n[destination]"),
         "destination.username: must not be empty"),
        (HEAD.replace(f'id = "{AUDIENCE}"', 'id = ""').replace(_NO_IDENTITY, "")
         .replace("[destination]", "identities = []\n[destination]"),
         "audiences[0].id: must not be empty"),
        (HEAD.replace('target = "email"', 'target = "x"')
         .replace("[destination]", "attributes = 5\n[destination]"),
         "identities[0].target: 'x' is not one of 'email', 'external_id'"),
        (HEAD + '\n[[attributes]]\nsource = "a..b"\ntarget = "x"\n'
         '\n[consent]\npath = "a.b"\nallow = []\n',
         "attributes[0].source: 'a..b' is not a dotted path such as person.name.firstName"),
        ("workflow = 5\n" + HEAD + '\n[consent]\npath = "a.b"\nallow = []\n',
         "consent.allow: needs at least 1 entry"),
        ("zzz = 1\n" + HEAD + '\n[workflow]\nfields = [{ name = "", jsonpath = "$.a" }]\n',
         "zzz: unknown key (allowed here: attributes, audiences, consent, destination, "
         "identities, workflow)"),  # unknown keys come first
        ("zzz = 1\n" + HEAD + "\n[workflow]\nzzz = 1\n",
         "workflow.zzz: unknown key (allowed here: fields)"),  # a known table's before the rest
    ],
)  # fmt: skip
def test_tables_are_reported_in_reading_order_before_depth(text: str, first: str) -> None:
    """destination, audiences, identities, attributes, consent, workflow, then anything else:
    a deeper error in an earlier table still comes first, unknown keys among themselves too."""
    lines = _error(text).splitlines()
    assert (lines[0], len(lines)) == (f"a.toml: {first}", 2)


def test_a_workflow_table_without_fields_derives_them() -> None:
    """``[workflow]`` with no ``fields``: the fields are derived, as if it were absent."""
    activation = parse_activation(toml("\n[workflow]\n"), source="a.toml")
    assert activation.fields_derived is True
    assert [f.name for f in activation.workflow_fields] == ["email"]


def test_json_after_leading_whitespace_is_sniffed() -> None:
    """Without a suffix, JSON is recognised after leading blank lines."""
    activation = parse_activation(b" \n\t" + _as_json(), source="-")
    assert activation.destination.name == "CSAT"


def test_a_prefix_clash_names_the_index_of_the_earlier_target() -> None:
    """``a.b`` after ``z`` and ``a``: conflicts with ``a`` at attributes[1]."""
    text = HEAD + "".join(
        f'\n[[attributes]]\nsource = "s.{i}"\ntarget = "{t}"\n'
        for i, t in enumerate(["z", "a", "a.b"])
    )
    assert _error(text) == (
        "a.toml: attributes[2].target: 'a.b' conflicts with 'a' (attributes[1].target): "
        "one payload path cannot hold both a value and an object"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEAD.replace("description =", "aaa = 1\ndescripton ="),
         "a.toml: destination.descripton: unknown key; did you mean 'description'?"),
        (HEAD.replace('name = "CSAT"', 'nme = "CSAT"')
         + '\n[workflow]\nfields = [{ jsonpath = "$.a" }]\n',
         "a.toml: destination.nme: unknown key; did you mean 'name'? "
         "('name' is required and missing)\n"
         "a.toml: workflow.fields[0].name: required key is missing"),
        (HEAD.replace('username = "u"', 'username = "u"\nusernamee = "v"'),
         "a.toml: destination.usernamee: unknown key; did you mean 'username'?"),
    ],
)  # fmt: skip
def test_a_typo_is_found_among_unknown_keys_and_explains_only_its_own_missing_key(
    text: str, message: str
) -> None:
    """An unknown key with no near miss is passed over for one with a near miss; the missing key
    it explains is the one in the same table (another table's missing ``name`` is counted)."""
    assert _error(text).splitlines()[: message.count("\n") + 1] == message.splitlines()


@pytest.mark.parametrize(
    ("namespace", "jsonpath"),
    [
        ("X", "$.identityMap.X[0].id"),
        ("_a9", "$.identityMap._a9[0].id"),
        ("9a", "$.identityMap['9a'][0].id"),
        ("a b", "$.identityMap['a b'][0].id"),
        ("Loyalty-ID", "$.identityMap['Loyalty-ID'][0].id"),
    ],
)
def test_derived_identity_jsonpaths_use_dots_only_for_simple_names(
    namespace: str, jsonpath: str
) -> None:
    """A namespace that is a plain identifier is a dot step; anything else is bracketed."""
    text = HEAD.replace('source = "Email"', f'source = "{namespace}"')
    activation = parse_activation(text.encode(), source="a.toml")
    assert activation.workflow_fields[0].jsonpath == jsonpath


@pytest.mark.parametrize(("target", "warns"), [("x", False), ("aB9", False), ("a_b", True),
                                               ("9a", True), ("aé", True)])  # fmt: skip
def test_camel_case_is_a_lowercase_letter_then_letters_and_digits(target: str, warns: bool) -> None:
    """The whole key must match: one lowercase letter, then ASCII letters or digits."""
    text = HEAD + f'\n[[attributes]]\nsource = "a.b"\ntarget = "{target}"\n'
    assert bool(parse_activation(text.encode(), source="a.toml").warnings) is warns


def test_dataclass_defaults_are_empty_and_sources_split() -> None:
    """Defaults for fields an activation may omit; a mapping's source splits into keys."""
    from connector.activation import Activation, AttributeMapping

    destination = Destination(name="n", url=URL, username="u", api_token_env="T")
    assert (destination.description, destination.marketing_actions) == ("", ())
    assert Audience("a").name == ""
    assert WorkflowField("n", "$.n").required is False
    bare = Activation(source="s", destination=destination, audiences=(), identities=())
    assert (bare.fields_derived, bare.sha256, bare.warnings) == (True, "", ())
    assert AttributeMapping("person.name", "x").source_keys == ("person", "name")
    assert parse_activation(toml()).source == "<activation>"


def test_a_missing_top_level_table_sorts_by_its_own_name() -> None:
    """A missing destination is reported before a deeper audiences error."""
    text = HEAD.split("[[audiences]]")[1].replace(f'id = "{AUDIENCE}"', 'id = ""')
    assert _error("[[audiences]]" + text).splitlines() == [
        "a.toml: destination: required key is missing",
        "a.toml: audiences[0].id: must not be empty",
    ]


@pytest.mark.parametrize(
    ("jsonpath", "feeds"),
    [
        ("$.identityMap['Loyalty-ID'][0].id", "identities: Loyalty-ID -> email"),
        ("$.identityMap.Email[1].id", "identities: Email -> external_id"),
        ("$.identityMap.Email.x", "identities: Email -> external_id"),
    ],
)
def test_declared_identity_fields_find_bracketed_and_other_elements(
    jsonpath: str, feeds: str
) -> None:
    """A bracketed namespace matches its derived path; another element of a namespace still
    names the namespace's mapping."""
    text = HEAD.replace('source = "Email"', 'source = "Loyalty-ID"') + (
        '\n[[identities]]\nsource = "Email"\ntarget = "external_id"\n'
        f'\n[workflow]\nfields = [{{ name = "x", jsonpath = {json.dumps(jsonpath)} }}]\n'
    )
    activation = parse_activation(text.encode(), source="a.toml")
    assert activation.workflow_fields[0].feeds_from == feeds


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("attributes.firstName", "firstName"),
        ("attributes.first.name", ""),
        ("attributes", ""),
        ("person.firstName", ""),
        ("person.attributes", ""),
    ],
)
def test_only_attributes_dot_one_key_names_a_destination_sdk_attribute(
    source: str, name: str
) -> None:
    """``attributes.X`` names SDK attribute ``X``; any other path (longer, shorter, elsewhere)
    is read as XDM."""
    mapping = AttributeMapping(source, "t")
    assert mapping.sdk_name == name
    assert sdk_attribute(mapping.source_keys) == name
    assert SDK_ATTRIBUTES == "attributes"


def test_a_schema_rule_without_its_own_wording_keeps_jsonschemas() -> None:
    """A validator the wording does not know (the schema may gain one, such as ``maximum``)
    is reported with jsonschema's own message and where it is, never dropped."""
    import jsonschema

    from connector.schema_errors import activation_error

    (error,) = jsonschema.Draft7Validator({"maximum": 3}).iter_errors(5)
    built = activation_error([error], "a.toml")
    assert built.problem == "5 is greater than the maximum of 3"
    assert built.key_path == "(top level)"
    assert built.file == "a.toml"


def test_the_mock_workflow_puts_required_fields_first_and_says_nothing_under_the_cap() -> None:
    """``mock_fields``: required fields lead (the cap drops optional ones), bodies carry exactly
    name, jsonpath and required, and no note while the cap is not reached."""
    fields = [
        WorkflowField("a", "$.a", False),
        WorkflowField("b", "$.b", True),
        WorkflowField("c", "$.c", False),
    ]
    bodies, note = mock_fields(fields)
    assert bodies == [
        {"name": "b", "jsonpath": "$.b", "required": True},
        {"name": "a", "jsonpath": "$.a", "required": False},
        {"name": "c", "jsonpath": "$.c", "required": False},
    ]
    assert note == ""


def test_the_field_cap_keeps_the_first_ten_and_names_what_it_dropped() -> None:
    """``cap_fields``: exactly ``MAX_MANUAL_FIELDS`` kept, in order, and the note says how many."""
    bodies = [{"name": f"f{i}", "jsonpath": f"$.f{i}", "required": False} for i in range(12)]
    kept, note = cap_fields(bodies)
    assert kept == bodies[:MAX_MANUAL_FIELDS] == bodies[:10]
    assert note == " (first 10 of 12 workflow fields: a workflow defines at most 10)"
    assert cap_fields(bodies[:10]) == (bodies[:10], "")


def test_a_declared_attribute_type_is_kept_on_the_mapping() -> None:
    """``type`` reaches the mapping (it drives generation and render's type check)."""
    text = HEAD + '\n[[attributes]]\nsource = "a.total"\ntarget = "total"\ntype = "integer"\n'
    [mapping] = parse_activation(text.encode(), source="a.toml").attributes
    assert (mapping.source, mapping.target, mapping.type) == ("a.total", "total", "integer")


def test_three_mapping_problems_are_three_lines() -> None:
    """Past the schema, every problem is said, the first and every one after it."""
    text = (
        HEAD
        + f'\n[[audiences]]\nid = "{AUDIENCE}"\n[[audiences]]\nid = "{AUDIENCE}"\n'
        + '\n[[identities]]\nsource = "Email"\ntarget = "email"\n'
    )
    assert _error(text).splitlines() == [
        f"a.toml: audiences[1].id: audience '{AUDIENCE}' appears twice (also at audiences[0])",
        f"a.toml: audiences[2].id: audience '{AUDIENCE}' appears twice (also at audiences[0])",
        "a.toml: identities[1].source: identityMap namespace 'Email' appears twice"
        " (also at identities[0])",
    ]
