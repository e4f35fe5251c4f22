"""The delivery stage against the plugin's live mock: real connector, real HTTP, run history."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from connector.activation import Activation
from connector.certify import certify, runner
from connector.render import Payload, Renderer


def by_name(result: Any) -> dict[str, Any]:
    return {check.name: check for check in result.checks}


def test_bundled_certifies_against_a_given_mock(bundled: Activation, mock_qualtrics: Any) -> None:
    """--mock URL: every delivery check passes, and the runs are in that mock's history."""
    result = certify(bundled, examples=60, seed=4, mock_url=mock_qualtrics.url)
    checks = by_name(result)
    assert result.passed, [c.full_evidence() for c in result.checks if not c.passed]
    evidence = checks["delivery.one-run-per-event"].evidence
    assert "each with a Succeeded run" in evidence
    assert "1 response lost after processing: 1 resend(s) of unknown outcome made" in evidence
    journal = mock_qualtrics.events()
    outcomes = {e["outcome"] for e in journal}
    assert {"accepted", "unauthorized", "fault"} <= outcomes


def test_workflow_requiring_an_unmapped_field_fails_delivery(
    bundled: Activation, mock_qualtrics: Any
) -> None:
    """A mock workflow that requires a field no mapping feeds: runs Fail, the check says so."""
    fields = [
        {"name": "email", "jsonpath": "$.identityMap.Email[0].id", "required": False},
        {"name": "orderId", "jsonpath": "$.order.id", "required": True},
    ]
    result = certify(
        bundled, examples=40, seed=4, mock_url=mock_qualtrics.url, mock_workflow_fields=fields
    )
    checks = by_name(result)
    one_run = checks["delivery.one-run-per-event"]
    assert not one_run.passed
    assert "runs Failed" in one_run.evidence
    assert "$.order.id" in one_run.evidence
    assert result.summary.startswith("certification failed:")


def test_embedded_mock_is_the_default(bundled: Activation) -> None:
    """Without mock_url an embedded mock is started on a free port and stopped afterwards."""
    result = certify(bundled, examples=30, seed=9)
    assert result.passed, [c.full_evidence() for c in result.checks if not c.passed]
    assert result.mock == "embedded"


def test_certification_renders_each_delivered_profile_once(
    bundled: Activation, mock_qualtrics: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exploration's payloads are delivered and checked as they are: the delivery stage
    renders none of them again, and its own sample profiles once each (it used to render every
    profile twice more: for the expected events, and in the sender's reader)."""
    phase = {"delivery": False}
    renders: Counter[str] = Counter()
    planned: set[str] = set()
    real_build = Renderer.build
    real_run_delivery = runner.run_delivery

    def counting_build(self: Renderer, profile: Any) -> Any:
        result = real_build(self, profile)
        if phase["delivery"] and isinstance(result, Payload):
            renders[result.event_id] += 1
        return result

    def marking_run_delivery(*args: Any, **kwargs: Any) -> Any:
        plan = args[2]
        planned.update(item.event_id for item in getattr(plan, "payloads", ()))
        phase["delivery"] = True
        return real_run_delivery(*args, **kwargs)

    monkeypatch.setattr(Renderer, "build", counting_build)
    monkeypatch.setattr(runner, "run_delivery", marking_run_delivery)
    result = certify(bundled, examples=30, seed=4, mock_url=mock_qualtrics.url)
    assert result.passed, [c.full_evidence() for c in result.checks if not c.passed]
    assert renders
    assert {event_id: n for event_id, n in renders.items() if n != 1} == {}
    assert planned
    assert not planned & set(renders), "a payload of the exploration was rendered again"
    sent = {e["idempotency_key"] for e in mock_qualtrics.events() if e["outcome"] == "accepted"}
    assert planned <= sent


@pytest.mark.mock_qualtrics(limits={"lockout_failures": 1})
def test_a_locked_out_client_is_named_as_the_cause(
    bundled: Activation, mock_qualtrics: Any
) -> None:
    """After the wrong-credentials check's one bad token locks the client out, the failures say
    so and quote what the mock answered each event, rather than calling the events lost."""
    result = certify(bundled, examples=20, seed=4, mock_url=mock_qualtrics.url)
    checks = by_name(result)
    assert checks["delivery.one-run-per-event"].passed, checks["delivery.one-run-per-event"]
    for name in ("delivery.wrong-credentials", "delivery.retries"):
        assert not checks[name].passed
        assert checks[name].evidence.startswith("the mock locked this client's address out")
    retries = checks["delivery.retries"].full_evidence()
    assert "no run; the mock answered 429 locked-out (1x)" in retries, retries
    assert "(lost)" not in retries
    assert "events lost" not in retries
