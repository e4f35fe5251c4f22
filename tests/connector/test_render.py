"""Rendering rules (the README's "Rendering"), one test per rule."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest
from support.activations import DOCUMENTED_IDENTITIES, activation_toml
from support.profiles import AUDIENCE
from support.renderers import doctored

from connector.activation import Activation, parse_activation
from connector.errors import ContractViolation
from connector.render import Exclusion, Payload, Renderer, dumps
from connector.validate import MAX_PAYLOAD_BYTES

OTHER_AUDIENCE = "5b998cb9-9488-4ec3-8d95-fa8338ced490"

ACTIVATION = activation_toml(
    DOCUMENTED_IDENTITIES,
    """
[[attributes]]
source = "person.name.firstName"
target = "person.name.firstName"

[[attributes]]
source = "mobilePhone.number"
target = "contact.mobile"

[[attributes]]
source = "attributes.loyaltyTier"
target = "loyaltyTier"
""",
)


@pytest.fixture(scope="module")
def activation() -> Activation:
    return parse_activation(ACTIVATION.encode(), source="t.toml")


@pytest.fixture(scope="module")
def renderer(activation: Activation) -> Renderer:
    return Renderer(activation)


def profile(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "person": {"name": {"firstName": "Dave", "lastName": "Smith"}},
        "mobilePhone": {"number": "0123456789"},
        "personalEmail": {"address": "dave@example.com"},
        "identityMap": {
            "Email": [
                {"id": "dave@example.com", "authenticatedState": "authenticated", "primary": True}
            ],
            "ECID": [{"id": "14575006536349286404619648085736425115"}],
            "Phone": [{"id": "+15555550100"}],
        },
        "segmentMembership": {
            "ups": {
                AUDIENCE: {
                    "lastQualificationTime": "2023-09-05T10:43:55.602687Z",
                    "status": "realized",
                },
                OTHER_AUDIENCE: {
                    "lastQualificationTime": "2023-09-05T10:43:55Z",
                    "status": "realized",
                },
            }
        },
    }
    base.update(overrides)
    return base


def payload_of(renderer: Renderer, p: Any) -> Payload:
    result = renderer.render(p)
    assert isinstance(result, Payload), result
    return result


def test_documented_profile_renders_the_documented_payload(renderer: Renderer) -> None:
    """The Adobe example: mapped attributes at their targets, identities reduced to {id}."""
    result = payload_of(renderer, profile())
    assert result.document == {
        "person": {"name": {"firstName": "Dave"}},
        "contact": {"mobile": "0123456789"},
        "identityMap": {
            "Email": [{"id": "dave@example.com"}],
            "ECID": [{"id": "14575006536349286404619648085736425115"}],
        },
        "segmentMembership": {
            "ups": {
                AUDIENCE: {
                    "status": "realized",
                    "lastQualificationTime": "2023-09-05T10:43:55.602687Z",
                }
            }
        },
    }
    assert result.body == dumps(result.document)


@pytest.mark.parametrize(
    ("status", "sent"), [("realized", True), ("exited", True), ("existing", False)]
)
def test_only_realized_or_exited_is_sent(renderer: Renderer, status: str, sent: bool) -> None:
    """`existing` alone is no change and sends nothing."""
    ups = {AUDIENCE: {"lastQualificationTime": "2023-09-05T10:43:55Z", "status": status}}
    result = renderer.render(profile(segmentMembership={"ups": ups}))
    assert isinstance(result, Payload) is sent
    if not sent:
        assert result is None


def test_unactivated_audience_alone_sends_nothing(renderer: Renderer) -> None:
    """A change in an audience this activation does not activate is not ours to send."""
    ups = {OTHER_AUDIENCE: {"lastQualificationTime": "2023-09-05T10:43:55Z", "status": "realized"}}
    assert renderer.render(profile(segmentMembership={"ups": ups})) is None
    assert renderer.render(profile(segmentMembership={})) is None


def test_existing_activated_audiences_ride_along(activation: Activation) -> None:
    """All activated audiences present are in the payload, whatever their status."""
    two = parse_activation(
        ACTIVATION.encode() + f'\n[[audiences]]\nid = "{OTHER_AUDIENCE}"\n'.encode()
    )
    ups = {
        AUDIENCE: {"lastQualificationTime": "2023-09-05T10:43:55Z", "status": "existing"},
        OTHER_AUDIENCE: {"lastQualificationTime": "2023-09-06T10:43:55Z", "status": "exited"},
    }
    result = payload_of(Renderer(two), profile(segmentMembership={"ups": ups}))
    assert result.document["segmentMembership"]["ups"] == ups
    assert len(result.dedup_keys) == 1
    assert OTHER_AUDIENCE in result.dedup_keys[0]


def test_timestamps_kept_exactly(renderer: Renderer) -> None:
    """lastQualificationTime is passed on byte for byte, in both AEP formats."""
    for stamp in ("2021-10-26T17:41:55.947+0000", "2021-06-30T18:40:07.591378Z"):
        ups = {AUDIENCE: {"lastQualificationTime": stamp, "status": "realized"}}
        result = payload_of(renderer, profile(segmentMembership={"ups": ups}))
        assert (
            result.document["segmentMembership"]["ups"][AUDIENCE]["lastQualificationTime"] == stamp
        )
        assert stamp.encode() in result.body


def test_nothing_unmapped_leaks(renderer: Renderer) -> None:
    """Unmapped attributes, namespaces and identity metadata stay behind."""
    body = payload_of(renderer, profile()).body
    for secret in (
        b"Smith",
        b"personalEmail",
        b"Phone",
        b"authenticatedState",
        b"primary",
        OTHER_AUDIENCE.encode(),
    ):
        assert secret not in body


def test_absent_and_null_attributes_are_left_out(renderer: Renderer) -> None:
    """Only attributes present in the profile are placed; null counts as absent."""
    result = payload_of(renderer, profile(person={"name": None}, mobilePhone="not an object"))
    assert "person" not in result.document
    assert "contact" not in result.document


def test_destination_sdk_attribute_form(renderer: Renderer) -> None:
    """`attributes.X` reads {"value": ...}; `{}` means absent."""
    assert (
        payload_of(renderer, profile(attributes={"loyaltyTier": {"value": "gold"}})).document[
            "loyaltyTier"
        ]
        == "gold"
    )
    assert (
        "loyaltyTier" not in payload_of(renderer, profile(attributes={"loyaltyTier": {}})).document
    )


def test_values_arrive_unchanged(renderer: Renderer) -> None:
    """Unicode, RTL, emoji and structured values are copied, never coerced."""
    name = "\u05d3\u05d5\u05d3 \U0001f600 Zo\u00eb"
    result = payload_of(
        renderer, profile(person={"name": {"firstName": name}}, mobilePhone={"number": {"cc": 1}})
    )
    assert result.document["person"]["name"]["firstName"] == name
    assert result.document["contact"]["mobile"] == {"cc": 1}


def test_input_profile_is_not_mutated(renderer: Renderer) -> None:
    """Rendering reads the profile; it does not change it."""
    original = profile()
    kept = copy.deepcopy(original)
    renderer.render(original)
    assert original == kept


@pytest.mark.parametrize(
    ("identity_map", "reason"),
    [
        ({}, "missing-identity"),
        ({"Phone": [{"id": "+1555"}]}, "missing-identity"),
        ({"Email": []}, "missing-identity"),
        ({"Email": [{"id": hashlib.sha256(b"dave@example.com").hexdigest()}]}, "hashed-email"),
        ({"Email": [{"id": hashlib.sha256(b"x").hexdigest().upper()}]}, "hashed-email"),
        ({"Email": [{"id": "not an email"}]}, "invalid-email"),
        ({"Email": [{"id": "dave@example"}]}, "invalid-email"),
        ({"Email": [{"id": "dave@example.com"}, {"id": "da ve@example.com"}]}, "invalid-email"),
        ({"Email": [{"id": "dave\u00a0@example.com"}], "ECID": [{"id": "1"}]}, "invalid-email"),
    ],
)
def test_identity_exclusions(renderer: Renderer, identity_map: dict[str, Any], reason: str) -> None:
    """No mapped identity, or an email that Qualtrics cannot use, excludes the profile."""
    result = renderer.render(profile(identityMap=identity_map))
    assert isinstance(result, Exclusion)
    assert result.reason == reason


def test_hashed_email_exclusion_names_the_json_path(renderer: Renderer) -> None:
    """The detail says where the bad identity is."""
    digest = hashlib.sha256(b"a").hexdigest()
    result = renderer.render(
        profile(identityMap={"ECID": [{"id": "1"}], "Email": [{"id": digest}]})
    )
    assert isinstance(result, Exclusion)
    assert result.detail.startswith("$.identityMap.Email[0].id: ")


def test_external_id_alone_is_enough(renderer: Renderer) -> None:
    """Either mapped identity suffices."""
    result = payload_of(renderer, profile(identityMap={"ECID": [{"id": "abc"}]}))
    assert result.document["identityMap"] == {"ECID": [{"id": "abc"}]}
    assert result.identity == "ECID:abc"


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        ([1, 2], "$: expected a JSON object, got list"),
        (None, "$: expected a JSON object, got null"),
        ("x", "$: expected a JSON object, got str"),
    ],
)
def test_non_objects_are_invalid_profiles(renderer: Renderer, bad: Any, where: str) -> None:
    """Anything but an object is an invalid profile."""
    result = renderer.render(bad)
    assert result == Exclusion("invalid-profile", where)


@pytest.mark.parametrize(
    ("overrides", "path"),
    [
        ({"identityMap": {"Email": [{"id": ""}]}}, "$.identityMap.Email[0].id"),
        ({"identityMap": {"Email": {"id": "a@b.co"}}}, "$.identityMap.Email"),
        (
            {
                "segmentMembership": {
                    "ups": {AUDIENCE: {"status": "realized", "lastQualificationTime": "yesterday"}}
                }
            },
            f"$.segmentMembership.ups['{AUDIENCE}'].lastQualificationTime",
        ),
        (
            {
                "segmentMembership": {
                    "ups": {
                        AUDIENCE: {
                            "status": "qualified",
                            "lastQualificationTime": "2023-09-05T10:43:55Z",
                        }
                    }
                }
            },
            f"$.segmentMembership.ups['{AUDIENCE}'].status",
        ),
    ],
)
def test_invalid_profiles_name_the_json_path(
    renderer: Renderer, overrides: dict[str, Any], path: str
) -> None:
    """A profile that breaks the AEP profile contract is excluded with the JSON path."""
    result = renderer.render(profile(**overrides))
    assert isinstance(result, Exclusion)
    assert result.reason == "invalid-profile"
    assert result.detail.startswith(path + ":")


def test_payload_too_large(renderer: Renderer) -> None:
    """A body over 102,400 bytes is excluded; one at the limit is sent."""
    overhead = len(payload_of(renderer, profile(person={"name": {"firstName": ""}})).body)
    fits = "x" * (MAX_PAYLOAD_BYTES - overhead)
    assert (
        len(payload_of(renderer, profile(person={"name": {"firstName": fits}})).body)
        == MAX_PAYLOAD_BYTES
    )
    result = renderer.render(profile(person={"name": {"firstName": fits + "x"}}))
    assert isinstance(result, Exclusion)
    assert result.reason == "payload-too-large"


def test_size_counts_utf8_bytes(renderer: Renderer) -> None:
    """100 KB is measured in UTF-8 bytes, not characters."""
    overhead = len(payload_of(renderer, profile(person={"name": {"firstName": ""}})).body)
    emoji = "\U0001f600" * ((MAX_PAYLOAD_BYTES - overhead) // 4 + 1)
    result = renderer.render(profile(person={"name": {"firstName": emoji}}))
    assert isinstance(result, Exclusion)
    assert result.reason == "payload-too-large"


def test_consent(activation: Activation) -> None:
    """With a consent rule, only allowed values are sent; absent consent excludes."""
    with_consent = parse_activation(
        ACTIVATION.encode() + b'\n[consent]\npath = "consents.marketing.email.val"\nallow = ["y"]\n'
    )
    renderer = Renderer(with_consent)
    allowed = profile(consents={"marketing": {"email": {"val": "y"}}})
    assert isinstance(renderer.render(allowed), Payload)
    for refused in (profile(consents={"marketing": {"email": {"val": "n"}}}), profile()):
        result = renderer.render(refused)
        assert isinstance(result, Exclusion)
        assert result.reason == "consent"
    assert "consents" not in payload_of(renderer, allowed).document


def test_dedup_key_per_identity_audience_status_time(renderer: Renderer) -> None:
    """The same qualification gives the same key; a new one gives a new key."""
    first = payload_of(renderer, profile())
    again = payload_of(renderer, profile(person={"name": {"firstName": "Changed"}}))
    later = payload_of(
        renderer,
        profile(
            segmentMembership={
                "ups": {
                    AUDIENCE: {
                        "lastQualificationTime": "2024-01-01T00:00:00Z",
                        "status": "realized",
                    }
                }
            }
        ),
    )
    assert first.dedup_keys == again.dedup_keys
    assert first.event_id == again.event_id
    assert first.event_id != later.event_id
    assert first.dedup_keys == (
        f"Email:dave@example.com|{AUDIENCE}|realized|2023-09-05T10:43:55.602687Z",
    )


def test_render_refuses_a_payload_that_breaks_the_contract(activation: Activation) -> None:
    """If building ever produced an invalid payload, render raises instead of handing it over."""
    broken = doctored(_without_segment_membership)(activation)

    with pytest.raises(ContractViolation, match="segmentMembership"):
        broken.render(profile())


def test_big_integers_survive(renderer: Renderer) -> None:
    """Integers beyond 64 bits are valid JSON and arrive unchanged."""
    big = 2**70
    result = payload_of(renderer, profile(mobilePhone={"number": big}))
    assert str(big).encode() in result.body


def _without_segment_membership(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "segmentMembership"}
