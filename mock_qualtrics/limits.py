"""Qualtrics' limits on a JSON Event: size, content type, nesting, calls per minute, runs per day.

The checks are plain functions and two small counters so that each one is tested alone; the
trigger blueprint decides their order. Nesting is measured by scanning the body's bytes, never by
recursing, so a body of 100,000 ``[`` costs a loop, not a ``RecursionError``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

__all__ = ["DailyCounter", "SlidingWindow", "is_json_content_type", "json_depth_exceeds"]

_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")
_QUOTE = ord('"')
_BACKSLASH = ord("\\")


def is_json_content_type(value: str | None) -> bool:
    """``application/json`` or ``application/<x>+json``, parameters such as charset allowed."""
    if not value:
        return False
    mime = value.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (
        mime.startswith("application/") and mime.endswith("+json")
    )


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


class SlidingWindow:
    """At most ``limit`` events per key in any ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._times: dict[str, deque[float]] = {}

    def acquire(self, key: str, now: float | None = None) -> int:
        """Take a slot: 0 on success, else whole seconds (>= 1) until a slot frees."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._times.setdefault(key, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                if not times:  # limit 0: never frees
                    return max(1, math.ceil(self.window))
                return max(1, math.ceil(times[0] + self.window - now))
            times.append(now)
            return 0

    def clear(self) -> None:
        with self._lock:
            self._times.clear()


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
