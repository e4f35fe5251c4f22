"""The idempotency-keys extension: the harness's own deduplication by ``Idempotency-Key``.

Qualtrics documents no deduplication, so this is off unless the mock config says
``[extensions] idempotency_keys = true``. Then a key seen on an accepted request of the same
workflow within ``IDEMPOTENCY_TTL`` (24 h) is answered 202 with the first requestId and makes no
second run. Only accepted requests register a key: a faulted or rejected one never does, and a key
whose run could not be recorded is released.
"""

from __future__ import annotations

import threading

__all__ = ["IdempotencyKeys"]


class IdempotencyKeys:
    """``(workflow_id, key) -> first requestId`` for ``ttl`` seconds: the harness's own
    deduplication, an extension (Qualtrics documents none), on only with
    ``[extensions] idempotency_keys = true``."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], tuple[str, float]] = {}
        self._since_sweep = 0

    def lookup(self, workflow_id: str, key: str, now: float) -> str | None:
        with self._lock:
            hit = self._keys.get((workflow_id, key))
            if hit is None:
                return None
            if hit[1] <= now:
                del self._keys[(workflow_id, key)]
                return None
            return hit[0]

    def claim(self, workflow_id: str, key: str, request_id: str, now: float) -> str | None:
        """Register ``key``; returns the earlier requestId if someone registered it first."""
        with self._lock:
            hit = self._keys.get((workflow_id, key))
            if hit is not None and hit[1] > now:
                return hit[0]
            self._keys[(workflow_id, key)] = (request_id, now + self.ttl)
            self._since_sweep += 1
            if self._since_sweep > 10_000:
                self._since_sweep = 0
                for k in [k for k, (_, exp) in self._keys.items() if exp <= now]:
                    del self._keys[k]
            return None

    def release(self, workflow_id: str, key: str, request_id: str) -> None:
        """Forget ``key`` if ``request_id`` registered it (its run could not be recorded)."""
        with self._lock:
            hit = self._keys.get((workflow_id, key))
            if hit is not None and hit[0] == request_id:
                del self._keys[(workflow_id, key)]

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
