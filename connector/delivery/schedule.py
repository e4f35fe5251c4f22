"""Which event goes next: per-identity order, the in-flight limit and retry times.

Pure bookkeeping with an injected clock, so every rule is testable without threads or sleeps:

* an identity's next event is not sent while an earlier one is in flight, waiting for a retry, or
  held (its retry time ran out: the rest of that identity stays pending for the next run);
* events of different identities are independent, first come first served;
* at most ``max_in_flight`` events are in flight at once.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .outbox import StoredEvent

__all__ = ["Schedule", "Tries"]


@dataclass(slots=True)
class Tries:
    """How often one event was attempted in this run, and when the first attempt left."""

    attempts: int = 0
    first: float = 0.0


class Schedule:
    """The queues of one run. Not thread-safe: the sender's coordinator owns it."""

    def __init__(self, max_in_flight: int, *, clock: Callable[[], float] = time.monotonic):
        self.max_in_flight = max_in_flight
        self.clock = clock
        self.in_flight = 0
        self._queues: dict[str, deque[StoredEvent]] = {}
        self._ready: deque[str] = deque()
        self._timers: list[tuple[float, int, str]] = []
        self._held: set[str] = set()
        self._tries: dict[str, Tries] = {}

    def __repr__(self) -> str:
        return (
            f"Schedule({len(self._queues)} identities, {self.in_flight} in flight, "
            f"{len(self._timers)} waiting, {len(self._held)} held)"
        )

    def add(self, event: StoredEvent) -> bool:
        """Queue ``event`` behind its identity's earlier ones; ``False`` if the identity is held."""
        if event.identity in self._held:
            return False
        waiting = self._queues.setdefault(event.identity, deque())
        waiting.append(event)
        if len(waiting) == 1:
            self._ready.append(event.identity)
        return True

    def due(self) -> list[StoredEvent]:
        """The events to send now (each counted in flight and as one more attempt)."""
        now = self.clock()
        while self._timers and self._timers[0][0] <= now:
            _, _, identity = heapq.heappop(self._timers)
            self._ready.append(identity)
        chosen: list[StoredEvent] = []
        while self._ready and self.in_flight < self.max_in_flight:
            waiting = self._queues.get(self._ready.popleft())
            if not waiting:  # held since it became ready
                continue
            event = waiting[0]
            tries = self._tries.setdefault(event.event_id, Tries(first=now))
            tries.attempts += 1
            self.in_flight += 1
            chosen.append(event)
        return chosen

    def tries(self, event: StoredEvent) -> Tries:
        """This run's attempts at ``event`` (zero before the first)."""
        return self._tries.get(event.event_id, Tries(first=self.clock()))

    def returned(self) -> None:
        """One event in flight came back (answered, failed, or cancelled)."""
        self.in_flight -= 1

    def finish(self, event: StoredEvent) -> None:
        """``event`` is done for good (delivered, dead, dropped): its identity's next may go."""
        waiting = self._queues[event.identity]
        waiting.popleft()
        self._tries.pop(event.event_id, None)
        if waiting:
            self._ready.append(event.identity)
        else:
            del self._queues[event.identity]

    def retry_in(self, event: StoredEvent, delay: float) -> None:
        """Try ``event`` again after ``delay`` seconds; its identity waits meanwhile."""
        heapq.heappush(self._timers, (self.clock() + delay, event.seq, event.identity))

    def hold(self, identity: str) -> list[StoredEvent]:
        """Stop sending ``identity`` for this run; returns its events (they stay pending)."""
        self._held.add(identity)
        events = list(self._queues.pop(identity, deque()))
        for event in events:
            self._tries.pop(event.event_id, None)
        return events

    def next_wakeup(self) -> float | None:
        """Seconds until the earliest retry is due (``None``: no retry waiting)."""
        if not self._timers:
            return None
        return max(0.0, self._timers[0][0] - self.clock())

    @property
    def idle(self) -> bool:
        """Nothing in flight, ready, or waiting for a retry."""
        return self.in_flight == 0 and not self._ready and not self._timers
