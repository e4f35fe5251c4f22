"""Limits on a JSON Event: size, content type, nesting, calls per minute, runs per day.

Qualtrics documents the size (100 KB), JSON only, 3,000 calls a minute as a leaky bucket and
300,000 runs a day; the nesting limit and the bucket's size are the mock's assumptions, listed as
such at ``GET /__admin/behaviours``.

The checks are plain functions and two small counters so that each one is tested alone; the
trigger blueprint decides their order. Nesting is measured by scanning the body's bytes, never by
recursing, so a body of 100,000 ``[`` costs a loop, not a ``RecursionError``.
"""

from __future__ import annotations

import math
import threading
import time

__all__ = ["DailyCounter", "LeakyBucket", "json_depth_exceeds"]

#: The clock the rate limit reads; a module attribute so that a test can hold time still.
monotonic = time.monotonic
#: Retry-After for a call that can never fit (a zero rate or an empty bucket): a day.
_NEVER = 86_400

_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")
_QUOTE = ord('"')
_BACKSLASH = ord("\\")


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether JSON text ``body`` nests arrays/objects deeper than ``limit`` (strings skipped)."""
    if body.count(b"[") + body.count(b"{") <= limit:  # fast path: cannot be deeper
        return False
    depth = 0
    in_string = False
    escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif byte in _CLOSE:
            depth -= 1
    return False


class LeakyBucket:
    """Qualtrics' documented per-user rate limit: a leaky bucket.

    Each accepted call adds one unit to the user's bucket, which drains continuously at
    ``rate`` units per second (3,000 per 60 s = 50/s by default) and holds at most ``capacity``
    units (``rate_burst``: Qualtrics documents the leaky bucket and the 3,000/min rate but not the
    bucket's size, so the default of 50 is an assumption). A call that would overflow the bucket
    is refused and told how many whole seconds pass before it would fit. Unlike a sliding window,
    a burst of 3,000 calls in one second is refused after the first ``capacity``, as it is live.
    """

    def __init__(self, capacity: int, rate: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self._lock = threading.Lock()
        self._level: dict[str, tuple[float, float]] = {}  # key -> (level, at)

    def acquire(self, key: str, now: float | None = None) -> int:
        """Add one call: 0 when it fits, else whole seconds (>= 1) until it would fit."""
        now = monotonic() if now is None else now
        with self._lock:
            level, at = self._level.get(key, (0.0, now))
            # Threads read the clock before they take the lock, so a call can arrive here with
            # an earlier ``now`` than the last one recorded: that is no time passing, not a
            # negative drain (which would add ``rate`` units per second of skew to the bucket).
            now = max(now, at)
            if self.rate > 0:
                level = max(0.0, level - (now - at) * self.rate)
            if level + 1 > self.capacity:
                self._level[key] = (level, now)
                if self.rate <= 0 or self.capacity < 1:  # never drains, or never fits
                    return _NEVER
                return max(1, math.ceil((level + 1 - self.capacity) / self.rate))
            self._level[key] = (level + 1, now)
            return 0

    def clear(self) -> None:
        with self._lock:
            self._level.clear()


class DailyCounter:
    """Runs per UTC day."""

    def __init__(self, limit: int, start: int = 0) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._day = int(time.time() // 86_400)
        self._count = start

    def acquire(self) -> int:
        """Take one run: 0 on success, else whole seconds until the next UTC day."""
        now = time.time()
        today = int(now // 86_400)
        with self._lock:
            if today != self._day:
                self._day, self._count = today, 0
            if self._count >= self.limit:
                return max(1, math.ceil((today + 1) * 86_400 - now))
            self._count += 1
            return 0

    def clear(self) -> None:
        with self._lock:
            self._count = 0
