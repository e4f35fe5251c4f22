"""What a mock's run history must show after a delivery: each event once, or at least once."""

from __future__ import annotations

from collections import Counter
from typing import Any

from connector.plugin import MockQualtrics

__all__ = ["assert_at_least_once", "assert_exactly_once"]


def assert_exactly_once(mock: MockQualtrics, workflow_id: str, items: list[Any]) -> None:
    """Every profile became exactly one Succeeded run; accepted keys are all distinct."""
    runs = mock.runs(workflow_id, wait_for=len(items), timeout=20)
    emails = Counter(run["fields"]["email"] for run in runs)
    assert len(runs) == len(items)
    assert set(emails.values()) == {1}
    assert emails.keys() == {p["identityMap"]["Email"][0]["id"] for p in items}
    assert {run["status"] for run in runs} == {"Succeeded"}
    assert not any(run.get("duplicate_of") for run in runs)
    accepted = [e["idempotency_key"] for e in mock.events() if e["outcome"] == "accepted"]
    assert len(accepted) == len(set(accepted)) == len(items)


def assert_at_least_once(
    mock: MockQualtrics, workflow_id: str, items: list[Any], *, resends: int
) -> list[dict[str, Any]]:
    """Every profile has a Succeeded run; each second run is explained by a counted resend.

    A faithful mock (no deduplication, like Qualtrics) makes a run for each resend that reached
    it, marked ``duplicate_of``; a mock with the idempotency extension journals it as
    ``duplicate`` instead. Either way, duplicates are exactly the resends that arrived, which
    can be no more than the resends the connector counted. Returns the duplicate runs.
    """
    wanted = {p["identityMap"]["Email"][0]["id"] for p in items}
    runs = mock.runs(workflow_id, wait_for=len(items), timeout=20)
    emails = Counter(run["fields"]["email"] for run in runs)
    assert emails.keys() == wanted, "an event was lost"
    assert {run["status"] for run in runs} == {"Succeeded"}
    extra = [run for run in runs if run.get("duplicate_of")]
    assert len(runs) - len(extra) == len(items), "a second run without duplicate_of"
    deduplicated = [e for e in mock.events() if e["outcome"] == "duplicate"]
    assert len(extra) + len(deduplicated) <= resends
    return extra
