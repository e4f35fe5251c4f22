"""The certification's named checks and their results.

Every check has a fixed name (PRODUCT.md, "Precise behaviours: Certification"); the same names are
the JUnit testcases, the report rows and the JSON keys, in this order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "CHECK_NAMES",
    "DELIVERY_CHECKS",
    "PROPERTY_CHECKS",
    "SENDER_CHECKS",
    "CheckResult",
]

PROPERTY_CHECKS: Final = (
    "property.no-crash",
    "property.contract-valid",
    "property.values-unchanged",
    "property.no-leak",
    "property.exclusion-reasons",
    "property.size-limit",
)
WORKFLOW_CHECK: Final = "workflow.required-fields"
DELIVERY_CHECKS: Final = (
    "delivery.one-run-per-event",
    "delivery.wrong-credentials",
    "delivery.retries",
)
CHECK_NAMES: Final = (
    "activation.load",
    "activation.governance",
    *PROPERTY_CHECKS,
    WORKFLOW_CHECK,
    *DELIVERY_CHECKS,
)

#: ``qharness certify-sender``'s checks, in order (a sender that is not ours, graded on arrival).
SENDER_CHECKS: Final = (
    "sender.exit",
    "sender.auth",
    "sender.contract-valid",
    "sender.values-unchanged",
    "sender.complete",
    "sender.no-duplicates",
    "sender.retry-after",
)


@dataclass(slots=True)
class CheckResult:
    """One check's verdict: ``evidence`` is the short line shown beside it; ``details`` the rest.

    ``details`` holds the failure's full evidence (the shrunk profile, the JSON paths, the replay
    command), shown under the check line in the terminal and as the JUnit ``<failure>`` text.
    ``data`` carries machine-readable facts for the JSON report.
    """

    name: str
    passed: bool
    evidence: str
    duration: float = 0.0
    details: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return "passed" if self.passed else "failed"

    def full_evidence(self) -> str:
        return f"{self.evidence}\n{self.details}".rstrip() if self.details else self.evidence
