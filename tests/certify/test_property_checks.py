"""The property and workflow stages catch broken renderers and unfed fields, naming the check."""

from __future__ import annotations

from typing import Any

import pytest
from support.renderers import doctored

from connector.activation import Activation
from connector.certify import CHECK_NAMES, certify
from connector.certify.properties import expect, judge
from connector.render import Exclusion, Renderer


def failed(result: Any) -> set[str]:
    return {check.name for check in result.checks if not check.passed}


def test_bundled_passes_every_offline_check(bundled: Activation) -> None:
    """The bundled example passes properties and workflow fields (delivery is tested elsewhere)."""
    result = certify(bundled, examples=150, seed=7, delivery=False)
    assert failed(result) == set()
    assert [c.name for c in result.checks] == [
        n for n in CHECK_NAMES if not n.startswith("delivery.")
    ]
    assert result.counts["generated"] == 150


def _drop_first_name(document: dict[str, Any]) -> dict[str, Any]:
    document.get("person", {}).get("name", {}).pop("firstName", None)
    return document


def _leak(document: dict[str, Any]) -> dict[str, Any]:
    document["internalScore"] = 42
    return document


def _oversize(document: dict[str, Any]) -> dict[str, Any]:
    document["person"] = {"name": {"firstName": "x" * 110_000}}
    return document


def _keep_extra_identity_fields(document: dict[str, Any]) -> dict[str, Any]:
    for entries in document["identityMap"].values():
        for entry in entries:
            entry["primary"] = True
    return document


@pytest.mark.parametrize(
    ("change", "check"),
    [
        (_drop_first_name, "property.values-unchanged"),
        (_leak, "property.no-leak"),
        (_oversize, "property.size-limit"),
        (_keep_extra_identity_fields, "property.no-leak"),
    ],
)
def test_broken_renderer_fails_the_right_check(
    bundled: Activation, change: Any, check: str
) -> None:
    """A renderer that drops, leaks or bloats fails with that check named and a shrunk profile."""
    result = certify(
        bundled, examples=100, seed=3, renderer_factory=doctored(change), delivery=False
    )
    assert check in failed(result)
    failure = next(c for c in result.checks if c.name == check)
    assert "minimal profile" in failure.details
    assert f"--seed {result.seed}" in failure.details
    assert "profile" in failure.data


def test_a_crashing_renderer_fails_no_crash(bundled: Activation) -> None:
    """An exception while rendering is a property.no-crash failure, not a crash of certify."""

    class Crashing(Renderer):
        def build(self, profile: Any) -> Any:
            if profile.get("mobilePhone"):
                raise KeyError("boom")
            return super().build(profile)

    result = certify(bundled, examples=100, seed=5, renderer_factory=Crashing, delivery=False)
    assert failed(result) == {"property.no-crash"}
    assert "KeyError" in next(c for c in result.checks if c.name == "property.no-crash").evidence


def test_undocumented_reason_fails_exclusion_reasons(bundled: Activation) -> None:
    """An exclusion with a made-up reason fails property.exclusion-reasons."""

    class Odd(Renderer):
        def build(self, profile: Any) -> Any:
            result = super().build(profile)
            return Exclusion("because", "no reason") if isinstance(result, Exclusion) else result

    result = certify(bundled, examples=100, seed=5, renderer_factory=Odd, delivery=False)
    assert failed(result) == {"property.exclusion-reasons"}


def test_shrinking_gives_a_small_profile(bundled: Activation) -> None:
    """The reported profile is shrunk: short values, no unmapped extras."""
    result = certify(
        bundled, examples=100, seed=11, renderer_factory=doctored(_drop_first_name), delivery=False
    )
    profile = next(c for c in result.checks if c.name == "property.values-unchanged").data[
        "profile"
    ]
    assert len(repr(profile)) < 400


def test_partner_field_nothing_feeds_fails_workflow_check(partner: Activation) -> None:
    """order_id ($.order.id) is required and unfed: named with its JSONPath, 'no mapping'."""
    result = certify(partner, examples=100, seed=1, delivery=False)
    assert failed(result) == {"workflow.required-fields"}
    check = next(c for c in result.checks if c.name == "workflow.required-fields")
    assert "'order_id' ($.order.id): no mapping feeds it" in check.evidence
    assert "a profile that leaves it empty" in check.details
    assert check.data["fields"][0]["name"] == "order_id"


def test_required_attribute_field_left_empty_is_named(bundled: Activation) -> None:
    """A required field fed by an optional attribute fails too, naming the mapping that feeds it."""
    from dataclasses import replace

    from connector.activation import WorkflowField

    fields = (
        WorkflowField(
            "firstName",
            "$.person.name.firstName",
            True,
            "attributes: person.name.firstName -> person.name.firstName",
        ),
    )
    activation = replace(bundled, workflow_fields=fields, fields_derived=False)
    result = certify(activation, examples=100, seed=2, delivery=False)
    check = next(c for c in result.checks if c.name == "workflow.required-fields")
    assert not check.passed
    assert "fed by attributes: person.name.firstName" in check.evidence


def test_judge_accepts_the_real_renderer_on_fixed_cases(bundled: Activation) -> None:
    """The oracle agrees with the renderer on the documented example profile."""
    profile = {
        "person": {"name": {"firstName": "Dave"}},
        "mobilePhone": {"number": "0123456789"},
        "identityMap": {
            "Email": [{"id": "dave@example.com", "primary": True}],
            "Phone": [{"id": "1"}],
        },
        "segmentMembership": {
            "ups": {
                "046456e3-18e1-48a6-9bda-d68547861283": {
                    "lastQualificationTime": "2023-09-05T10:43:55.602687Z",
                    "status": "realized",
                }
            }
        },
    }
    expected = expect(bundled, profile)
    assert expected.kind == "send"
    assert judge(bundled, profile, Renderer(bundled).build(profile), expected).failures == {}
