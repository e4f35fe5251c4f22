"""Rendering properties over generated AEP profiles (connector.strategies), for several activations."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import Phase, event, find, given, note, settings
from hypothesis import strategies as st
from support.activations import DOCUMENTED_IDENTITIES, activation_toml
from support.profiles import AUDIENCE

from connector import exactjson
from connector.activation import Activation, parse_activation
from connector.paths import MISSING, get_path
from connector.render import EXCLUSION_REASONS, Exclusion, Payload, Renderer
from connector.strategies import profiles
from connector.validate import MAX_PAYLOAD_BYTES, validator_for

HEAD = activation_toml(audiences=[AUDIENCE, "5b998cb9-9488-4ec3-8d95-fa8338ced490"])

ACTIVATIONS = {
    "documented": HEAD
    + DOCUMENTED_IDENTITIES
    + """
[[attributes]]
source = "person.name.firstName"
target = "person.name.firstName"
[[attributes]]
source = "mobilePhone.number"
target = "mobilePhone.number"
""",
    "sdk-form-with-consent": HEAD
    + """
[[identities]]
source = "CRMID"
target = "external_id"
[[attributes]]
source = "attributes.firstName"
target = "firstName"
[[attributes]]
source = "attributes.loyalty"
target = "customer.loyaltyTier"
[consent]
path = "consents.marketing.email.val"
allow = ["y", "p"]
""",
}


def build(name: str) -> tuple[Activation, Renderer]:
    activation = parse_activation(ACTIVATIONS[name].encode(), source=f"{name}.toml")
    return activation, Renderer(activation)


CASES = {name: build(name) for name in ACTIVATIONS}


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_rendering_is_total_and_every_payload_is_contract_valid(
    name: str, data: st.DataObject
) -> None:
    """Any generated profile is sent or excluded with a documented reason; payloads validate."""
    activation, renderer = CASES[name]
    profile = data.draw(profiles(activation), label="profile")
    result = renderer.render(profile)  # raises ContractViolation if a payload breaks the contract
    note(f"result: {result!r}"[:2000])
    if isinstance(result, Exclusion):
        assert result.reason in EXCLUSION_REASONS
    elif isinstance(result, Payload):
        assert validator_for("qualtrics-event").is_valid(result.document)
        assert len(result.body) <= MAX_PAYLOAD_BYTES
    else:
        assert result is None, result  # no membership change: nothing to send, nothing to say


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_arrive_unchanged_and_nothing_unmapped_leaks(name: str) -> None:
    """Each mapped value sits at its target unchanged; nothing else is in the payload.

    Excluded profiles have nothing to compare; the number of payloads compared is asserted
    after the run, so that a strategy that stopped reaching payloads fails here."""
    activation, renderer = CASES[name]
    compared = [0]

    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        profile = data.draw(profiles(activation), label="profile")
        result = renderer.build(profile)
        event("payload" if isinstance(result, Payload) else "no payload")
        if isinstance(result, Payload):
            _compare(activation, profile, result)
            compared[0] += 1

    check()
    assert compared[0] > 0


def _compare(activation: Activation, profile: dict[str, Any], result: Payload) -> None:
    payload = result.document
    expected: dict[str, Any] = {}
    for mapping in activation.attributes:
        keys = mapping.source_keys
        if keys[0] == "attributes" and isinstance(profile.get("attributes"), dict):
            slot = profile["attributes"].get(keys[1], MISSING)
            value = slot.get("value", MISSING) if isinstance(slot, dict) else slot
        else:
            value = get_path(profile, keys)
        if value is not MISSING and value is not None:
            assert get_path(payload, mapping.target_keys) == value
            expected[mapping.target] = value
    leaves = set(_leaf_paths(payload))
    allowed_roots = {m.target_keys[0] for m in activation.attributes} | {
        "identityMap",
        "segmentMembership",
    }
    assert {path[0] for path in leaves} <= allowed_roots
    assert set(payload["identityMap"]) <= {m.source for m in activation.identities}
    for namespace, entries in payload["identityMap"].items():
        assert entries == [{"id": e["id"]} for e in profile["identityMap"][namespace]]
    assert set(payload["segmentMembership"]["ups"]) <= set(activation.audience_ids)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_values_property_meets_payloads(name: str) -> None:
    """The property above compares payloads only; were every generated profile excluded, it
    would pass asserting nothing. ``find`` raises if no profile renders to a payload."""
    activation, renderer = CASES[name]
    find(
        profiles(activation),
        lambda profile: isinstance(renderer.build(profile), Payload),
        # generate only: the explain phase's HypothesisWarning would be an error here, and
        # a found example needs no shrinking
        settings=settings(max_examples=2000, database=None, phases=[Phase.generate]),
    )


def _leaf_paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(node, dict) and node:
        return [p for k, v in node.items() for p in _leaf_paths(v, (*prefix, k))]
    return [prefix]


@given(data=st.data())
def test_payload_round_trips_through_json(data: st.DataObject) -> None:
    """profile -> payload -> JSON bytes -> the same payload, numbers as written (``1.0E10``
    stays an exact number); stdlib and orjson read the same machine values from the bytes."""
    activation, renderer = CASES["documented"]
    result = renderer.build(data.draw(profiles(activation, adversarial=False)))
    assert isinstance(result, Payload)
    assert exactjson.loads(result.body) == result.document
    assert json.loads(result.body) == orjson.loads(result.body)


@given(data=st.data())
def test_non_adversarial_profiles_are_always_sent(data: st.DataObject) -> None:
    """A well-formed profile with a mapped identity and a realized audience is always sent."""
    activation, renderer = CASES["sdk-form-with-consent"]
    result = renderer.render(data.draw(profiles(activation, adversarial=False)))
    assert isinstance(result, Payload)


@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
        max_leaves=10,
    )
)
def test_any_json_value_is_rendered_or_excluded(value: Any) -> None:
    """Arbitrary JSON (not a profile at all) never crashes the renderer."""
    _, renderer = CASES["documented"]
    result = renderer.render(value)
    assert result is None or isinstance(result, Payload | Exclusion)
