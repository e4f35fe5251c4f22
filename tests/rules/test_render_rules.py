"""Rendering rules the example tests leave open: consent types, surrogates, the body's bytes,
what a contract violation names, and the exclusion details.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.activations import DOCUMENTED_IDENTITIES, activation_toml
from support.profiles import AUDIENCE
from support.renderers import doctored

from connector.activation import Activation, parse_activation
from connector.errors import ContractViolation
from connector.render import (
    EXCLUSION_REASONS,
    SENDABLE_STATUSES,
    Exclusion,
    Payload,
    Renderer,
    dumps,
    is_hashed_email,
    is_plain_email,
)

ACTIVATION = activation_toml(
    DOCUMENTED_IDENTITIES,
    """
[[attributes]]
source = "person.name.firstName"
target = "person.name.firstName"

[consent]
path = "consents.marketing.email.val"
allow = ["y", "p"]
""",
)


@pytest.fixture(scope="module")
def activation() -> Activation:
    return parse_activation(ACTIVATION.encode(), source="t.toml")


@pytest.fixture(scope="module")
def renderer(activation: Activation) -> Renderer:
    return Renderer(activation)


def profile(consent: Any = "y", **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "person": {"name": {"firstName": "Dave"}},
        "identityMap": {"Email": [{"id": "dave@example.com"}]},
        "consents": {"marketing": {"email": {"val": consent}}},
        "segmentMembership": {
            "ups": {
                AUDIENCE: {"lastQualificationTime": "2023-09-05T10:43:55Z", "status": "realized"}
            }
        },
    }
    base.update(overrides)
    return base


def test_reasons_and_statuses_are_the_documented_ones() -> None:
    """Six exclusion reasons, in report order; only realized and exited are sent."""
    assert EXCLUSION_REASONS == (
        "missing-identity",
        "hashed-email",
        "invalid-email",
        "consent",
        "payload-too-large",
        "invalid-profile",
    )
    assert frozenset({"realized", "exited"}) == SENDABLE_STATUSES


@pytest.mark.parametrize("value", [1, 0, True, None, ["y"], {"val": "y"}, 1.5])
def test_a_non_string_consent_value_excludes_instead_of_raising(
    renderer: Renderer, value: Any
) -> None:
    """Consent that is not a string is not consent: excluded with its repr, never a crash."""
    result = renderer.render(profile(consent=value))
    assert result == Exclusion(
        "consent", f"consents.marketing.email.val is {value!r}; allowed: 'p', 'y'"
    )


def test_absent_consent_is_named_absent(renderer: Renderer) -> None:
    """A missing consent field says ``absent``."""
    result = renderer.render(profile(consents={}))
    assert result == Exclusion(
        "consent", "consents.marketing.email.val is absent; allowed: 'p', 'y'"
    )
    assert str(result) == "consent: consents.marketing.email.val is absent; allowed: 'p', 'y'"


@pytest.mark.parametrize("value", ["y", "p"])
def test_each_allowed_consent_value_is_sent(renderer: Renderer, value: str) -> None:
    """Every listed value lets the profile through, and consent itself is not sent."""
    result = renderer.render(profile(consent=value))
    assert isinstance(result, Payload)
    assert "consents" not in result.document


@pytest.mark.parametrize("surrogate", ["\ud800", "a\udfffb"])
def test_a_lone_surrogate_excludes_the_profile(renderer: Renderer, surrogate: str) -> None:
    """A string with a lone UTF-16 surrogate is not UTF-8: invalid-profile, not a crash."""
    result = renderer.render(profile(person={"name": {"firstName": surrogate}}))
    assert result == Exclusion("invalid-profile", "$: a string holds a lone UTF-16 surrogate")


def test_the_body_is_compact_utf8_even_beyond_64_bit_integers() -> None:
    """No spaces, non-ASCII as raw UTF-8 (not \\u escapes), big integers exact."""
    document = {"n": 2**70, "s": "é✓", "l": [1, {"a": None}]}
    assert dumps(document) == '{"n":1180591620717411303424,"s":"é✓","l":[1,{"a":null}]}'.encode()
    assert dumps({"s": "é"}) == b'{"s":"\xc3\xa9"}'


@given(
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=["Cc"], exclude_characters='"\\'),
        max_size=20,
    )
)
def test_the_body_carries_text_as_its_own_utf8_bytes(text: str) -> None:
    """Text needing no JSON escape is sent byte-exact: its UTF-8 bytes, nothing escaped."""
    assert dumps({"s": text}) == b'{"s":"' + text.encode("utf-8") + b'"}'


def test_a_contract_violation_names_the_contract_and_the_source(activation: Activation) -> None:
    """A broken payload raises ContractViolation naming 'qualtrics-event', the file and the path."""
    broken = doctored(_without_segment_membership)(activation)

    with pytest.raises(ContractViolation) as caught:
        broken.render(profile(), source="in.jsonl:3")
    assert caught.value.contract == "qualtrics-event"
    assert caught.value.source == "in.jsonl:3"
    assert str(caught.value).startswith("in.jsonl:3: breaks contract 'qualtrics-event' at ")
    assert "segmentMembership" in str(caught.value)


def test_a_body_over_the_limit_is_refused_by_render(activation: Activation) -> None:
    """render() also refuses a payload whose body is over 102,400 bytes, whatever build says."""

    class Oversized(Renderer):
        def build(self, profile: Any) -> Payload | Exclusion | None:
            result = super().build(profile)
            assert isinstance(result, Payload)
            return Payload(
                result.document, result.body + b" " * 102_400, result.identity, result.dedup_keys
            )

    with pytest.raises(ContractViolation, match="qualtrics-event"):
        Oversized(activation).render(profile())


def test_the_repr_names_the_activation_file(renderer: Renderer) -> None:
    """A renderer shows which activation it renders for."""
    assert repr(renderer) == "Renderer('t.toml')"


@pytest.mark.parametrize(
    ("value", "plain", "hashed"),
    [
        ("dave@example.com", True, False),
        ("dave@example.com\n", False, False),
        ("a" * 64, False, True),
        ("A" * 63 + "0", False, True),
        ("a" * 63, False, False),
        ("a" * 65, False, False),
        ("g" * 64, False, False),
    ],
)
def test_email_shapes(value: str, plain: bool, hashed: bool) -> None:
    """Plain is the contract's pattern in full; hashed is exactly 64 hex characters."""
    assert is_plain_email(value) is plain
    assert is_hashed_email(value) is hashed


def test_an_email_exclusion_names_the_json_path_and_a_short_value(renderer: Renderer) -> None:
    """The detail names the entry's JSON path and shows at most 80 characters of the value."""
    bad = "x" * 100
    result = renderer.render(
        profile(identityMap={"Email": [{"id": "ok@example.com"}, {"id": bad}]})
    )
    assert result == Exclusion(
        "invalid-email", f"$.identityMap.Email[1].id: {bad[:80]!r} is not a plain-text email"
    )


def test_missing_identity_names_the_namespaces(renderer: Renderer) -> None:
    """No mapped namespace present: the detail lists the namespaces looked for."""
    result = renderer.render(profile(identityMap={"Phone": [{"id": "+1555"}]}))
    assert result == Exclusion(
        "missing-identity", "$.identityMap: none of the mapped namespaces (Email, ECID)"
    )


def test_event_id_is_the_first_32_hex_of_the_sha256_of_the_keys(renderer: Renderer) -> None:
    """The Idempotency-Key: sha256 of the dedup keys joined by newlines, 32 hex characters."""
    import hashlib

    result = renderer.render(profile())
    assert isinstance(result, Payload)
    expected = hashlib.sha256("\n".join(result.dedup_keys).encode()).hexdigest()[:32]
    assert result.event_id == expected
    two = Payload({}, b"", "x", ("a", "b"))
    assert two.event_id == hashlib.sha256(b"a\nb").hexdigest()[:32]


def test_render_without_a_source_names_only_the_contract(activation: Activation) -> None:
    """Without ``source`` the violation starts at the contract, with no empty prefix."""
    without_identities = doctored(lambda d: {k: v for k, v in d.items() if k != "identityMap"})
    with pytest.raises(ContractViolation) as caught:
        without_identities(activation).render(profile())
    assert caught.value.source == ""
    assert str(caught.value).startswith("breaks contract 'qualtrics-event' at ")


def _without_segment_membership(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "segmentMembership"}


_TYPED = Renderer(
    parse_activation(
        activation_toml(
            DOCUMENTED_IDENTITIES
            + '\n[[attributes]]\nsource = "loyalty.tier"\ntarget = "tier"\ntype = "integer"\n'
        ).encode(),
        source="typed.toml",
    )
)


def _typed_profile(tier: object) -> dict[str, Any]:
    return {
        "identityMap": {"Email": [{"id": "dave@example.com"}]},
        "loyalty": {"tier": tier},
        "segmentMembership": {
            "ups": {
                AUDIENCE: {"status": "realized", "lastQualificationTime": "2024-01-01T00:00:00Z"}
            }
        },
    }


@pytest.mark.parametrize(
    ("tier", "shown"),
    [
        ("gold", "'gold'"),
        ("x" * 58, repr("x" * 58)),  # 60 characters with its quotes: shown whole
        ("x" * 59, f"{repr('x' * 59)[:40]}... (61 characters)"),  # 61: cut
    ],
)
def test_a_mistyped_value_is_worded_exactly_and_long_ones_are_cut(tier: str, shown: str) -> None:
    """The exclusion's detail: the JSON path, the value's JSON type, the value (cut past 60
    characters, its length said), the declared XDM type and why AEP never exports it."""
    result = _TYPED.render(_typed_profile(tier))
    assert isinstance(result, Exclusion)
    assert (result.reason, result.detail) == (
        "invalid-profile",
        f"$.loyalty.tier: string {shown} where the mapping declares XDM type integer"
        " (AEP refuses such a record at ingestion)",
    )


def test_a_mistyped_destination_sdk_value_is_placed_at_its_value() -> None:
    """An ``attributes.X`` mapping reads ``{"value": ...}``: the detail points inside it, at
    ``$.attributes.X.value``, where the wrong value is."""
    renderer = Renderer(
        parse_activation(
            activation_toml(
                DOCUMENTED_IDENTITIES + '\n[[attributes]]\nsource = "attributes.loyaltyTier"\n'
                'target = "tier"\ntype = "integer"\n'
            ).encode(),
            source="sdk.toml",
        )
    )
    profile = _typed_profile("unmapped here")
    profile["attributes"] = {"loyaltyTier": {"value": "gold"}}
    result = renderer.render(profile)
    assert isinstance(result, Exclusion)
    assert (result.reason, result.detail) == (
        "invalid-profile",
        "$.attributes.loyaltyTier.value: string 'gold' where the mapping declares XDM type"
        " integer (AEP refuses such a record at ingestion)",
    )
