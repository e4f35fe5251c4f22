"""A thread-safe token bucket: at most ``rate`` requests per second on average.

Qualtrics allows 3,000 calls a minute per user; the default of 40/s keeps 20% headroom for
anything else the same user sends. The bucket holds ``burst`` tokens, so a quiet spell does not
turn into a flood. Clock and sleep are injectable so tests never wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """``acquire()`` blocks until a token is free; ``rate=None`` means unlimited."""

    def __init__(
        self,
        rate: float | None,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError(f"rate must be positive or None, got {rate!r}")
        if burst is not None and burst < 1.0:  # it could never hold a token: acquire() would hang
            raise ValueError(f"burst must be at least 1, got {burst!r}")
        self.rate = rate
        self.burst = burst if burst is not None else (max(1.0, min(rate, 10.0)) if rate else 1.0)
        self._tokens = self.burst
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Take one token, waiting as long as needed."""
        if self.rate is None:
            return
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1.0 - 1e-9:  # float residue must not cause endless tiny waits
                    self._tokens = max(0.0, self._tokens - 1.0)
                    return
                wait = (1.0 - self._tokens) / self.rate
            self._sleep(wait)

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate!r}, burst={self.burst!r})"
