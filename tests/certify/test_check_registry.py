"""Checks are registered functions: names, order and titles come from one registry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connector.certify import checks
from connector.certify.checks import CheckResult, Failure, register, registered
from connector.certify.sender import grading

CERTIFY = [
    "activation.load",
    "activation.governance",
    "property.no-crash",
    "property.contract-valid",
    "property.values-unchanged",
    "property.no-leak",
    "property.exclusion-reasons",
    "property.size-limit",
    "workflow.required-fields",
    "delivery.one-run-per-event",
    "delivery.wrong-credentials",
    "delivery.retries",
]
SENDER = [
    "sender.exit",
    "sender.auth",
    "sender.contract-valid",
    "sender.values-unchanged",
    "sender.complete",
    "sender.no-duplicates",
    "sender.retry-after",
]


def test_the_fixed_names_in_their_fixed_order() -> None:
    assert list(checks.CHECK_NAMES) == CERTIFY
    assert list(checks.SENDER_CHECKS) == SENDER
    assert list(checks.PROPERTY_CHECKS) == CERTIFY[2:8]
    assert checks.WORKFLOW_CHECK == "workflow.required-fields"
    assert list(checks.DELIVERY_CHECKS) == CERTIFY[9:]


def test_every_check_is_a_titled_function() -> None:
    assert sorted(check.name for check in registered()) == sorted(CERTIFY + SENDER)
    for check in registered():
        assert callable(check.function), check.name
        assert check.title, check.name
        assert "\n" not in check.title, check.name
        assert check.name.split(".")[0] in (check.stage, "activation"), check.name


def test_a_failed_result_is_a_typed_failure() -> None:
    failed = CheckResult("sender.complete", False, "2 of 5 events lost", details="event e1")
    assert failed.failure == Failure(
        "Every event has a Succeeded run", "2 of 5 events lost", "event e1"
    )
    assert CheckResult("sender.complete", True, "5 of 5").failure is None


@pytest.fixture
def extra_check() -> Iterator[list[Any]]:
    seen: list[Any] = []

    @register("sender.extra", stage="sender", title="An extra check, registered in a test")
    def extra(ev: Any) -> CheckResult:
        seen.append(ev)
        return CheckResult("sender.extra", True, "ran")

    yield seen
    checks._REGISTRY.pop("sender.extra")


def test_a_new_check_is_one_registered_function(
    extra_check: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Registering a function is all it takes: grading runs it, last in its stage."""
    for check in registered("sender")[:-1]:
        monkeypatch.setitem(
            checks._REGISTRY,
            check.name,
            checks.Check(
                check.name,
                check.title,
                check.stage,
                lambda ev, n=check.name: CheckResult(n, True, ""),
            ),
        )
    results = grading.grade("evidence")  # type: ignore[arg-type]
    assert [r.name for r in results] == [*SENDER, "sender.extra"]
    assert extra_check == ["evidence"]


def test_a_name_cannot_be_registered_twice() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register("sender.exit", stage="sender", title="again")(lambda ev: None)
    with pytest.raises(ValueError, match="unknown stage"):
        register("x.y", stage="nowhere", title="t")
