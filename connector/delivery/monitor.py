"""The run's report and alerts, shaped like AEP's dataflow monitoring.

Counts: profiles received, identities activated (events delivered), excluded by reason, failed by
reason, duplicates skipped, retries, and each input line's fate (``ledger``, so that the summary
adds up); latency p50/p99 of the requests that delivered an event (the
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

from .ledger import InputLedger

__all__ = ["DEFAULT_SKIP_ALERT", "Alert", "DeliveryReport", "percentile"]

#: Skip rate above which an alert is raised when ``--max-skip-rate`` is not given.
DEFAULT_SKIP_ALERT: Final = 0.5


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: ``kind`` is ``start``, ``success``, ``failure``, ``skip-rate`` or
    ``unreachable`` (every attempt so far failed to connect, nothing delivered yet)."""

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
    #: Set when the outbox failed mid-run (a full disk): the one line that says where and why.
    store_error: str | None = None
    max_skip_rate: float | None = None
    #: Where each input line ended up; the summary's arithmetic (see ``ledger``).
    ledger: InputLedger = field(default_factory=InputLedger)
    #: Why the last failed attempt failed (``connection refused``, ``http 503 ...``).
    last_error: str | None = None
    #: ``--accept-input-errors``: lines that are not JSON objects do not fail the run.
    accept_input_errors: bool = False
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
        """Everything read was delivered or excluded, nothing failed or was left pending, and
        no dead letter (of this run or an earlier one) waits in the outbox."""
        return (
            not self.failed
            and not self.dropped
            and self.pending == 0
            and self.dead_lettered == 0
            and self.stopped_by is None
            and self.store_error is None
            and not self.skip_rate_breached
            and (self.accept_input_errors or self.ledger.input_errors == 0)
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
        """One line for people that adds up: ``N received = a delivered + b excluded + ...``
        (every input line in one term), then retries, resends, earlier runs' events, the outbox."""
        ledger = self.ledger
        with self._lock:
            terms = [f"{ledger.delivered} delivered"] + [
                f"{count} {label}"
                for count, label in (
                    (ledger.already_delivered, "already delivered"),
                    (self.excluded.total(), "excluded"),
                    (self.failed.get("contract-violation", 0), "failed the contract"),
                    (ledger.pending, "pending"),
                    (ledger.dead, "dead-lettered"),
                    (ledger.already_dead, "already dead-lettered"),
                    (ledger.input_errors, _plural(ledger.input_errors, "input error")),
                    (ledger.unchanged, "no change"),
                )
                if count
            ]
            parts = [f"{self.profiles_received} received = " + " + ".join(terms)]
            if self.retries:
                parts.append(_plural(self.retries, "retry", "retries", count=True))
            if self.unknown_outcome_resends:
                parts.append(f"{self.unknown_outcome_resends} resent after an unknown outcome")
            if ledger.earlier_delivered or ledger.earlier_dead:
                parts.append(
                    f"earlier runs' events: {ledger.earlier_delivered} delivered, "
                    f"{ledger.earlier_dead} dead-lettered"
                )
            if self.pending or self.dead_lettered:
                parts.append(
                    f"outbox: {self.pending} pending, "
                    f"{_plural(self.dead_lettered, 'dead letter', count=True)}"
                )
            if self.last_error is not None and self.pending:
                parts.append(f"last error: {self.last_error}")
            failed = ", ".join(
                f"{reason} {count}"
                for reason, count in sorted(self.failed.items())
                if reason != "contract-violation"
            )
            if failed:
                parts.append(f"failed: {failed}")
            dropped = ", ".join(f"{reason} {n}" for reason, n in sorted(self.dropped.items()))
            if dropped:
                parts.append(f"dropped (aep policy): {dropped}")
        return "; ".join(parts)

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
                "input_errors": self.ledger.input_errors,
                "lines": self.ledger.as_dict(),
                "outbox": {"pending": self.pending, "dead_letters": self.dead_lettered},
                "last_error": self.last_error,
            }


def _plural(n: int, one: str, many: str = "", *, count: bool = False) -> str:
    """``input error``/``input errors`` by ``n`` (with ``count``: ``1 retry``, ``2 retries``)."""
    word = one if n == 1 else (many or f"{one}s")
    return f"{n} {word}" if count else word
