"""Where every input line of one ``send`` run ended up, so that the summary adds up.

A resumed run used to say "3000 received, 1341 delivered, 3000 duplicates skipped": the
delivered events were the earlier run's leftovers, and the duplicates were the same lines seen
again. The ledger counts *lines*: each received line ends in exactly one of these, and they add
up to the lines received:

* delivered in this run, pending (kept in the outbox for the next run), dead-lettered in this run;
* already delivered, or already dead-lettered, by an earlier run (the outbox remembers the event);
* excluded by policy (by reason), failed the contract, an input error (not a JSON object), or no
  change (no activated audience realized or exited).

A line whose event was already pending from an earlier run follows that event's outcome in this
run. Events of earlier runs that no line of this input maps to are counted apart
(``earlier_delivered``, ``earlier_dead``). Used by the sender's coordinator thread only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["InputLedger"]


@dataclass(slots=True)
class InputLedger:
    """Counts of input lines by fate (see the module docstring); the excluded and contract-failed
    lines are counted by the report's ``excluded`` and ``failed``."""

    delivered: int = 0
    pending: int = 0
    dead: int = 0
    already_delivered: int = 0
    already_dead: int = 0
    input_errors: int = 0
    unchanged: int = 0
    earlier_delivered: int = 0
    earlier_dead: int = 0
    _open: Counter[str] = field(default_factory=Counter, repr=False)

    def track(self, event_id: str) -> None:
        """A line maps to an event that is pending now (new, or left by an earlier run)."""
        self._open[event_id] += 1

    def seen_before(self, state: str | None) -> None:
        """A line maps to an event an earlier run settled: ``delivered`` or ``dead``."""
        if state == "delivered":
            self.already_delivered += 1
        else:
            self.already_dead += 1

    def settled(self, event_id: str, *, delivered: bool) -> None:
        """An event was delivered (a 2xx) or dead-lettered in this run."""
        lines = self._open.pop(event_id, 0)
        if delivered:
            self.delivered += lines
            self.earlier_delivered += 0 if lines else 1
        else:
            self.dead += lines
            self.earlier_dead += 0 if lines else 1

    def close(self) -> None:
        """The run ended: the lines whose event is still open stay pending."""
        self.pending += self._open.total()
        self._open.clear()

    def as_dict(self) -> dict[str, int]:
        return {
            "delivered": self.delivered,
            "pending": self.pending,
            "dead_lettered": self.dead,
            "already_delivered": self.already_delivered,
            "already_dead_lettered": self.already_dead,
            "input_errors": self.input_errors,
            "no_change": self.unchanged,
            "earlier_events_delivered": self.earlier_delivered,
            "earlier_events_dead_lettered": self.earlier_dead,
        }
