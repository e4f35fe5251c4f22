"""Qualtrics' trigger authentication: ``X-API-TOKEN`` or Basic ``username:apitoken``.

Tokens are compared in constant time (``hmac.compare_digest``) against the SHA-256 digest the
mock keeps instead of the token. A client (remote address) that fails 10 times within 60 s is
locked out for 5 minutes on every trigger request, valid credentials included: an assumption
(Qualtrics documents no lockout), configurable with ``[limits] lockout_*``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
import time
from collections import deque
from typing import Protocol

from .workflows import User, token_digest

__all__ = ["Lockout", "UserRegistry"]


class _Headers(Protocol):
    def get(self, key: str, /) -> str | None: ...


class UserRegistry:
    """Users by name and by token digest; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_name: dict[str, User] = {}
        self._by_digest: dict[bytes, User] = {}

    def put(self, user: User) -> None:
        with self._lock:
            old = self._by_name.get(user.username)
            if old is not None:
                self._by_digest.pop(old.token_sha256, None)
            self._by_name[user.username] = user
            self._by_digest[user.token_sha256] = user

    def clear(self) -> None:
        with self._lock:
            self._by_name.clear()
            self._by_digest.clear()

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._by_name)

    def authenticate(self, headers: _Headers) -> tuple[User | None, str]:
        """The user the request's credentials prove, and ``""`` or why they prove no one."""
        token = headers.get("X-API-TOKEN")
        if token is not None:
            digest = token_digest(token)
            with self._lock:
                user = self._by_digest.get(digest)
            if user is not None and hmac.compare_digest(digest, user.token_sha256):
                return user, ""
            return None, "the API token is not valid"
        header = headers.get("Authorization") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic" or not value.strip():
            return None, "no credentials: send X-API-TOKEN or Basic username:apitoken"
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, "malformed Basic credentials"
        username, sep, password = decoded.partition(":")
        if not sep:
            return None, "malformed Basic credentials"
        with self._lock:
            user = self._by_name.get(username)
        # Compare even for unknown users so that timing does not reveal which names exist.
        expected = user.token_sha256 if user is not None else bytes(32)
        if hmac.compare_digest(token_digest(password), expected) and user is not None:
            return user, ""
        return None, "wrong user name or API token"


class Lockout:
    """Failed authentications per client; locks a client out after too many."""

    def __init__(self, failures: int, window: float, duration: float) -> None:
        self.failures = failures
        self.window = window
        self.duration = duration
        self._lock = threading.Lock()
        self._failed: dict[str, deque[float]] = {}
        self._until: dict[str, float] = {}

    def locked_for(self, client: str, now: float | None = None) -> float:
        """Seconds ``client`` stays locked out (0 when it is not)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            until = self._until.get(client, 0.0)
            if until <= now:
                self._until.pop(client, None)
                return 0.0
            return until - now

    def record_failure(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._failed.setdefault(client, deque())
            times.append(now)
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.failures:
                self._until[client] = now + self.duration
                times.clear()

    def clear(self) -> None:
        with self._lock:
            self._failed.clear()
            self._until.clear()
