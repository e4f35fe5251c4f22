"""Workflow-field rules the certify tests leave open: which mapping feeds a declared field, and
the load warning for a field nothing can feed, word for word, with the target it guesses.
"""

from __future__ import annotations

import json

import pytest
from support.activations import DOCUMENTED_IDENTITIES, activation_toml
from support.profiles import AUDIENCE

from connector.activation import Activation, parse_activation

#: Three attributes (one nested, one a single letter), after Email -> email, ECID -> external_id.
ATTRIBUTES = """
[[attributes]]
source = "person.name.firstName"
target = "firstName"

[[attributes]]
source = "loyalty.tier"
target = "loyalty.tier"

[[attributes]]
source = "place.x"
target = "geo.x"
"""
MAPPINGS = DOCUMENTED_IDENTITIES + ATTRIBUTES
#: Every mapped target, in the order a warning lists them.
TARGETS = (
    "$.identityMap.Email[0].id, $.identityMap.ECID[0].id, $.firstName, $.loyalty.tier, $.geo.x"
)
UNFED = "can never receive a value: no mapped target or identity is at that path"


def declared(*jsonpaths: str, mappings: str = MAPPINGS, required: bool = False) -> Activation:
    """An activation declaring one workflow field (``f0``, ``f1``...) per JSONPath."""
    fields = "".join(
        f"  {{ name = 'f{i}', jsonpath = {json.dumps(p)}, required = {str(required).lower()} }},\n"
        for i, p in enumerate(jsonpaths)
    )
    text = activation_toml(mappings, f"\n[workflow]\nfields = [\n{fields}]\n")
    return parse_activation(text.encode(), source="a.toml")


@pytest.mark.parametrize("required", [False, True])
def test_an_unfed_field_is_warned_word_for_word(required: bool) -> None:
    """The file, the field's index, whether it is required, its name and path, and the guess."""
    activation = declared("$.identityMap.Email[0].id", "$.first_name", required=required)
    kind = "required" if required else "optional"
    assert activation.warnings == (
        f"a.toml: workflow.fields[1]: {kind} field 'f1' ($.first_name) {UNFED}; "
        "did you mean '$.firstName' (attributes: person.name.firstName -> firstName)?",
    )


def test_fed_fields_are_not_warned() -> None:
    """A field at a mapped target, under one, or at an identity: no warning."""
    activation = declared("$.firstName", "$.loyalty.tier", "$.identityMap.ECID[0].id")
    assert activation.warnings == ()


def test_a_misspelt_identity_path_is_guessed_as_a_whole() -> None:
    """An identity path is guessed from the whole path: its leaf, ``id``, says nothing."""
    activation = declared("$.identityMap.Emial[0].id")
    assert activation.warnings == (
        f"a.toml: workflow.fields[0]: optional field 'f0' ($.identityMap.Emial[0].id) {UNFED}; "
        "did you mean '$.identityMap.Email[0].id' (identities: Email -> email)?",
    )


def test_a_path_unlike_every_target_is_guessed_by_its_leaf() -> None:
    """``$.member.profile.tier`` is far from ``$.loyalty.tier`` as a whole, but its last name,
    ``tier``, is that target's last name."""
    activation = declared("$.member.profile.tier")
    assert activation.warnings == (
        f"a.toml: workflow.fields[0]: optional field 'f0' ($.member.profile.tier) {UNFED}; "
        "did you mean '$.loyalty.tier' (attributes: loyalty.tier -> loyalty.tier)?",
    )


def test_a_one_letter_leaf_is_guessed_case_aside() -> None:
    """``X`` is ``x`` with case aside: a one-letter name is a leaf like any other."""
    activation = declared("$.location.X")
    assert activation.warnings == (
        f"a.toml: workflow.fields[0]: optional field 'f0' ($.location.X) {UNFED}; "
        "did you mean '$.geo.x' (attributes: place.x -> geo.x)?",
    )


def test_a_leaf_id_is_never_taken_for_an_identity() -> None:
    """Every identity path ends in ``id``: a path ending in ``id`` elsewhere guesses none of
    them, and the warning lists the mapped targets instead."""
    activation = declared("$.order.customer.id")
    assert activation.warnings == (
        f"a.toml: workflow.fields[0]: optional field 'f0' ($.order.customer.id) {UNFED}; "
        f"mapped targets: {TARGETS}",
    )


def test_a_path_without_names_lists_the_mapped_targets() -> None:
    """``$[0]`` names nothing, so no target is guessed from it."""
    activation = declared("$[0]")
    assert activation.warnings == (
        f"a.toml: workflow.fields[0]: optional field 'f0' ($[0]) {UNFED}; "
        f"mapped targets: {TARGETS}",
    )


def test_the_list_of_mapped_targets_stops_at_ten() -> None:
    """One identity and eleven attributes: the warning lists the first ten targets."""
    attributes = "".join(
        f'\n[[attributes]]\nsource = "a.f{i}"\ntarget = "f{i}"\n' for i in range(11)
    )
    mappings = '\n[[identities]]\nsource = "Email"\ntarget = "email"\n' + attributes
    activation = declared("$[0]", mappings=mappings)
    listed = ", ".join(["$.identityMap.Email[0].id"] + [f"$.f{i}" for i in range(9)])
    assert activation.warnings == (
        f"a.toml: workflow.fields[0]: optional field 'f0' ($[0]) {UNFED}; mapped targets: {listed}",
    )


@pytest.mark.parametrize(
    ("jsonpath", "feeds"),
    [
        ("$.identityMap.*[0].id", "identities: ECID -> external_id; identities: Email -> email"),
        ("$..id", "identities: ECID -> external_id; identities: Email -> email"),
        ("$['firstName'].deeper", "attributes: person.name.firstName -> firstName"),
        ('$["firstName"].deeper', "attributes: person.name.firstName -> firstName"),
        (f"$.segmentMembership.ups['{AUDIENCE}'].status", "audiences"),
        (f"$.segmentMembership.ups['{AUDIENCE}'].lastQualificationTime", "audiences"),
        ("$.segmentMembership.ups.*.status", "audiences"),
        ("$.segmentMembership.ups.*.lastQualificationTime", "audiences"),
    ],
)
def test_wildcards_brackets_and_audiences_find_their_feeders(jsonpath: str, feeds: str) -> None:
    """A wildcard names every mapping it reaches, sorted and joined by '; '; a bracketed name
    is under its target like a dotted one; the activated audience's own status and time are
    fed by the audiences."""
    activation = declared(jsonpath)
    assert activation.workflow_fields[0].feeds_from == feeds
    assert activation.warnings == ()


def test_an_audience_that_is_not_activated_feeds_nothing() -> None:
    """Only the activated audiences' memberships are sent: another audience's status is never."""
    activation = declared("$.segmentMembership.ups['other'].status")
    assert activation.workflow_fields[0].feeds_from is None
    assert activation.warnings == (
        "a.toml: workflow.fields[0]: optional field 'f0' "
        f"($.segmentMembership.ups['other'].status) {UNFED}; mapped targets: {TARGETS}",
    )


def test_another_element_of_a_bracketed_namespace_names_its_mapping() -> None:
    """``Loyalty-ID``'s second id is written (every id of a mapped namespace is), and the
    namespace is bracketed in its derived path: its mapping still feeds the field."""
    mappings = '\n[[identities]]\nsource = "Loyalty-ID"\ntarget = "email"\n'
    activation = declared("$.identityMap['Loyalty-ID'][1].id", mappings=mappings)
    assert activation.workflow_fields[0].feeds_from == "identities: Loyalty-ID -> email"
    assert activation.warnings == ()
