"""A total deadline for one HTTP request, which a server dripping its answer cannot stretch.

httpx's timeouts are per operation: a read times out only when *no* byte arrives for 15 s, so a
server that sends one byte a second holds a request (and the worker making it) for as long as it
likes. ``within(seconds)`` sets a deadline for the requests the calling thread makes; every
connect, read and write of a client that went through ``install`` is then given at most the time
left, and one that starts after the deadline fails at once with httpcore's own timeout (which
httpx turns into ``ReadTimeout``/``WriteTimeout``/``ConnectTimeout``, so the caller's error
handling does not change).

The deadline lives in a thread-local because a sync httpx client does all of a request's I/O in
the calling thread. ``install`` wraps the network backend of the client's connection pools (the
only seam httpcore has below its per-operation timeouts); a client whose transport has no pool (an
``httpx.MockTransport`` in tests) is left as it is.
"""

from __future__ import annotations

import threading
import time
import typing
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Final

import httpcore
import httpx

__all__ = ["REQUEST_DEADLINE", "install", "remaining", "within"]

#: The total time one request may take, connect to last byte: the sum of the connect (5 s),
#: write (10 s) and read (15 s) timeouts, which no single healthy request comes near.
REQUEST_DEADLINE: Final = 30.0

_local = threading.local()


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Requests made by this thread inside the block end, at the latest, ``seconds`` from now."""
    previous: float | None = getattr(_local, "deadline", None)
    _local.deadline = time.monotonic() + seconds
    try:
        yield
    finally:
        _local.deadline = previous


def remaining() -> float | None:
    """Seconds left before this thread's deadline (``None``: no deadline is set)."""
    deadline: float | None = getattr(_local, "deadline", None)
    return None if deadline is None else deadline - time.monotonic()


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` cut to the time left; raises ``expired`` when none is left."""
    left = remaining()
    if left is None:
        return timeout
    if left <= 0:
        raise expired("the request's total deadline has passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the thread's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """Connections whose streams keep the thread's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, bounded, local_address, socket_options)
        return _Stream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def install(client: httpx.Client) -> httpx.Client:
    """Make every request of ``client`` keep the deadline of ``within``; returns ``client``."""
    # httpx has no public seam below its per-operation timeouts: its pools are private.
    transports = [client._transport, *client._mounts.values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is not None and not isinstance(backend, _Backend):
            pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
    return client
