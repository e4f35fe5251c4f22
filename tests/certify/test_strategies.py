"""The public strategies: valid AEP profiles exercising every mapping, adversarial ones too."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.activation import Activation
from connector.cli._common import load_or_bundled
from connector.render import Exclusion, Payload, Renderer
from connector.strategies import payloads, profiles, timestamps
from connector.validate import validator_for

BUNDLED = load_or_bundled(None)
AEP_TIMESTAMP = re.compile(
    validator_for("aep-profile").schema["definitions"]["timestamp"]["pattern"]
)


@given(profiles(BUNDLED))
def test_profiles_are_valid_aep_profiles(profile: dict[str, Any]) -> None:
    """Every generated profile satisfies the aep-profile contract (adversarial is not invalid)."""
    assert validator_for("aep-profile").is_valid(profile)


@given(timestamps())
def test_timestamps_match_the_contract(moment: str) -> None:
    """Both AEP formats, and their kin, are what the contract accepts."""
    assert AEP_TIMESTAMP.fullmatch(moment)


@given(profiles(BUNDLED, adversarial=False))
def test_non_adversarial_profiles_are_sent(profile: dict[str, Any]) -> None:
    """With adversarial=False every profile renders to a payload."""
    assert isinstance(Renderer(BUNDLED).render(profile), Payload)


@given(payloads(BUNDLED))
def test_payloads_satisfy_the_event_contract(document: dict[str, Any]) -> None:
    """payloads() yields documents valid against qualtrics-event."""
    assert validator_for("qualtrics-event").is_valid(document)


def _collect(activation: Activation, n: int = 400) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    @settings(max_examples=n, database=None, derandomize=True)  # a fixed sample: no flakes
    @given(profiles(activation))
    def gather(profile: dict[str, Any]) -> None:
        seen.append(profile)

    gather()
    return seen


def test_adversarial_cases_all_appear(bundled: Activation) -> None:
    """The adversarial cases the README lists all show up within a few hundred profiles."""
    seen = _collect(bundled)
    renderer = Renderer(bundled)
    outcomes = Counter(
        r.reason if isinstance(r, Exclusion) else type(r).__name__
        for r in map(renderer.build, seen)
    )
    assert {
        "Payload",
        "NoneType",
        "missing-identity",
        "hashed-email",
        "invalid-email",
        "payload-too-large",
    } <= set(outcomes)
    text = repr(seen)
    assert "محمد" in text
    assert "😀" in text
    statuses = {m["status"] for p in seen for m in p["segmentMembership"]["ups"].values()}
    assert statuses == {"realized", "existing", "exited"}
    times = [
        m["lastQualificationTime"] for p in seen for m in p["segmentMembership"]["ups"].values()
    ]
    assert any(re.search(r"\.\d{6}Z$", t) for t in times)
    assert any(re.search(r"\.\d{3}\+0000$", t) for t in times)
    namespaces = {ns for p in seen for ns in p["identityMap"]}
    assert namespaces - {"Email", "ECID"}  # unmapped namespaces, to prove nothing leaks


def test_sdk_form_and_consent_are_exercised() -> None:
    """attributes.X sources use the Destination SDK form; consent values allowed and refused."""
    from connector.activation import parse_activation

    activation = parse_activation(
        b"""
[destination]
name = "d"
url = "https://iad1.qualtrics.com/x"
username = "u"
api_token_env = "T"
[[audiences]]
id = "a1"
[[identities]]
source = "Email"
target = "email"
[[attributes]]
source = "attributes.firstName"
target = "firstName"
[consent]
path = "consents.marketing.email.val"
allow = ["y"]
""",
        source="sdk.toml",
    )
    seen = _collect(activation, 300)
    sdk = [p["attributes"]["firstName"] for p in seen if "firstName" in p.get("attributes", {})]
    assert any("value" in slot for slot in sdk)
    assert any(slot == {} for slot in sdk)
    consents = {
        repr(p.get("consents", {}).get("marketing", {}).get("email", {}).get("val")) for p in seen
    }
    assert "'y'" in consents
    assert len(consents) > 2


@given(st.data())
def test_strategy_repr_is_short(data: st.DataObject) -> None:
    """The strategy's repr stays short (Hypothesis warns about huge reprs; warnings are errors)."""
    assert len(repr(profiles(BUNDLED))) < 200
    data.draw(profiles(BUNDLED))


def test_adversarial_profiles_carry_numbers_no_machine_type_keeps() -> None:
    """Certification's values-unchanged meets 1e400-like numbers: some mapped value is one."""
    from hypothesis import find

    from connector.exactjson import ExactNumber

    def mapped_exact(profile: dict[str, Any]) -> bool:
        result = Renderer(BUNDLED).build(profile)
        return isinstance(result, Payload) and any(
            isinstance(value, ExactNumber)
            for value in (
                result.document.get("person", {}).get("name", {}).get("firstName"),
                result.document.get("mobilePhone", {}).get("number"),
            )
        )

    found = find(profiles(BUNDLED), mapped_exact, settings=settings(max_examples=2000))
    assert mapped_exact(found)


@given(st.data())
def test_number_texts_are_json_numbers_the_parser_keeps(data: st.DataObject) -> None:
    """Every generated number text parses, and is written back byte for byte."""
    from connector.exactjson import dumps
    from connector.profiles import parse_line
    from connector.strategies import number_texts

    text = data.draw(number_texts())
    assert dumps(parse_line(text.encode())) == text.encode()
