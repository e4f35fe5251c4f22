"""The run's report and alerts, shaped like AEP's dataflow monitoring.

Counts: profiles received, identities activated (events delivered), excluded by reason, failed by
reason, duplicates skipped, retries; latency p50/p99 of the requests that delivered an event (the
HTTP round trip, in milliseconds); the activation rate (activated / received). Skip rate is
excluded / received; a duplicate is not a skip. Alerts mirror AEP's (flow run start, success,
failure, activation skip rate exceeded): each goes to the ``on_alert`` callback (stderr in the
CLI) and into the report. Only ``--max-skip-rate`` turns a skip-rate breach into a failure.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

__all__ = ["DEFAULT_SKIP_ALERT", "Alert", "DeliveryReport", "percentile"]

#: Skip rate above which an alert is raised when ``--max-skip-rate`` is not given.
DEFAULT_SKIP_ALERT: Final = 0.5


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: ``kind`` is ``start``, ``success``, ``failure`` or ``skip-rate``."""

    kind: str
    message: str
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message, "at": self.at}

    def __str__(self) -> str:
        return f"alert: {self.kind}: {self.message}"


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of already sorted values; ``None`` when there are none."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass(slots=True)
class DeliveryReport:
    """Counters for one run; ``as_dict()`` is the JSON report.

    Thread-safe: update through ``add``/``tally``/``latency`` (one lock), and read a consistent
    copy through ``as_dict``. The sender updates it from its coordinator thread while a progress
    callback or another thread may read it.
    """

    profiles_received: int = 0
    identities_activated: int = 0
    excluded: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    duplicates_skipped: int = 0
    retries: int = 0
    #: Resends of an event whose earlier request got no answer (in flight at a kill, or the
    #: response lost): each may start a second workflow run, as Qualtrics does not deduplicate.
    unknown_outcome_resends: int = 0
    #: ``--retry-policy aep`` only: events given up, by reason, as AEP would drop them.
    dropped: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list, repr=False)
    alerts: list[Alert] = field(default_factory=list)
    #: Outbox totals after the run (``pending`` includes events kept for the next run).
    pending: int = 0
    dead_lettered: int = 0
    #: Set when the destination answered 401/403 and the run stopped.
    stopped_by: int | None = None
    max_skip_rate: float | None = None
    on_alert: Callable[[Alert], None] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def delivered(self) -> int:
        """Events delivered (a 2xx) in this run; the same as ``identities_activated``."""
        return self.identities_activated

    @property
    def skip_rate(self) -> float:
        return self.excluded.total() / self.profiles_received if self.profiles_received else 0.0

    @property
    def skip_rate_breached(self) -> bool:
        """True only when ``--max-skip-rate`` was given and exceeded (then the run fails)."""
        return self.max_skip_rate is not None and self.skip_rate > self.max_skip_rate

    @property
    def ok(self) -> bool:
        """Everything read was delivered or excluded, nothing failed or was left pending."""
        return (
            not self.failed
            and not self.dropped
            and self.pending == 0
            and self.stopped_by is None
            and not self.skip_rate_breached
        )

    def add(self, counter: str, amount: int = 1) -> None:
        """Increase the integer counter named ``counter`` (``retries``, ...) under the lock."""
        with self._lock:
            setattr(self, counter, getattr(self, counter) + amount)

    def tally(self, counter: str, reason: str, amount: int = 1) -> None:
        """Count ``reason`` in the ``excluded``, ``failed`` or ``dropped`` breakdown."""
        with self._lock:
            breakdown: Counter[str] = getattr(self, counter)
            breakdown[reason] += amount

    def latency(self, seconds: float) -> None:
        """One delivered request's round trip."""
        with self._lock:
            self.latencies.append(seconds)

    def alert(self, kind: str, message: str) -> None:
        """Record an alert and hand it to ``on_alert``."""
        entry = Alert(kind, message)
        with self._lock:
            self.alerts.append(entry)
        if self.on_alert is not None:
            self.on_alert(entry)

    def finish(self) -> None:
        """Raise the closing alerts: skip rate, then success or failure."""
        threshold = self.max_skip_rate if self.max_skip_rate is not None else DEFAULT_SKIP_ALERT
        if self.skip_rate > threshold:
            self.alert(
                "skip-rate",
                f"activation skip rate {self.skip_rate:.1%} is over {threshold:.1%} "
                f"({self.excluded.total()} of {self.profiles_received} profiles excluded)",
            )
        if self.ok:
            self.alert("success", self.summary())
        else:
            self.alert("failure", self.summary())

    def summary(self) -> str:
        """One line for people: what was delivered, kept, dead-lettered, excluded and skipped."""
        with self._lock:
            failed = ", ".join(f"{reason} {count}" for reason, count in sorted(self.failed.items()))
            dropped = ", ".join(f"{reason} {n}" for reason, n in sorted(self.dropped.items()))
            resends = self.unknown_outcome_resends
            return (
                f"{self.profiles_received} received, {self.identities_activated} delivered, "
                f"{self.excluded.total()} excluded, {self.duplicates_skipped} duplicates skipped, "
                f"{self.retries} retries, {self.pending} pending, {self.dead_lettered} dead-lettered"
                + (f", {resends} resent after an unknown outcome" if resends else "")
                + (f"; failed: {failed}" if failed else "")
                + (f"; dropped (aep policy): {dropped}" if dropped else "")
            )

    def as_dict(self) -> dict[str, Any]:
        """The JSON report (the spec's keys, in that order, then this harness's additions)."""
        with self._lock:
            ordered = sorted(self.latencies)
            alerts = [alert.as_dict() for alert in self.alerts]
            p50, p99 = percentile(ordered, 0.50), percentile(ordered, 0.99)
            return {
                "profiles_received": self.profiles_received,
                "identities_activated": self.identities_activated,
                "excluded": dict(sorted(self.excluded.items())),
                "failed": dict(sorted(self.failed.items())),
                "duplicates_skipped": self.duplicates_skipped,
                "retries": self.retries,
                "latency_ms": {
                    "p50": None if p50 is None else round(p50 * 1000, 3),
                    "p99": None if p99 is None else round(p99 * 1000, 3),
                },
                "activation_rate": (
                    round(self.identities_activated / self.profiles_received, 6)
                    if self.profiles_received
                    else None
                ),
                "alerts": alerts,
                "unknown_outcome_resends": self.unknown_outcome_resends,
                "dropped": dict(sorted(self.dropped.items())),
            }
