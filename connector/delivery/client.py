"""One HTTP attempt at delivering an event, and the client that makes it.

The client follows no redirect (a 3xx is a permanent failure: a redirected POST could land the
profile and the token somewhere else), uses the spec's timeouts, and reads at most
``MAX_RESPONSE_BYTES`` of any answer, so a misbehaving endpoint cannot exhaust memory. An attempt
never raises for HTTP or network trouble: it returns an ``Attempt`` that ``policy.classify``
judges. Exceptions are reduced to a few words (``why.transport_reason``), because httpx exceptions may
carry the URL. Each attempt has a total deadline (``deadline.REQUEST_DEADLINE``, or less), which
a server dripping its answer a byte at a time cannot stretch: httpx's own timeouts are per read.

``make_client`` is the one place a client is built (``send``, ``test-destination``, ``probe``): the
``network.Network`` it takes says which roots to trust besides the OS store and which CONNECT proxy
to go through; nothing is read from the environment here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

import httpcore
import httpx

from . import deadline as _deadline
from .auth import QualtricsBasicAuth
from .network import CONNECT_TO, DIRECT, Network
from .why import transport_reason

__all__ = ["MAX_RESPONSE_BYTES", "TIMEOUT", "Attempt", "make_client", "post_event"]

TIMEOUT: Final = httpx.Timeout(connect=5.0, read=15.0, write=10.0, pool=5.0)
#: Qualtrics answers with a small JSON envelope; anything longer is cut here.
MAX_RESPONSE_BYTES: Final = 64 * 1024
USER_AGENT: Final = "qualtrics-harness"


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one POST produced: a status code (``None`` on a network error) and timing.

    ``outcome_unknown``: the request may have reached the destination but no answer came back
    (a read timeout, or the connection dropped after sending), so a run may exist.
    """

    status_code: int | None
    error: str | None = None
    outcome_unknown: bool = False
    retry_after: str | None = None
    elapsed: float = 0.0
    body: bytes = field(default=b"", repr=False)
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)


def make_client(
    auth: QualtricsBasicAuth,
    *,
    network: Network = DIRECT,
    max_connections: int = 10,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """An ``httpx.Client`` for one destination; thread-safe, shared by the sender's workers.

    TLS is verified against the OS trust store plus ``network.ca_bundle``; with
    ``network.proxy`` every request goes through that proxy's CONNECT tunnel. ``transport``
    (tests) replaces the network entirely.
    """
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    if transport is None:
        transport = _transport(network, limits)
    client = httpx.Client(
        auth=auth,
        timeout=TIMEOUT,
        follow_redirects=False,
        transport=transport,
        headers={"User-Agent": USER_AGENT},
        trust_env=False,  # no proxy from the environment: the URL guard decides where data goes
    )
    return _deadline.install(client)


def _transport(network: Network, limits: httpx.Limits) -> httpx.HTTPTransport:
    transport = httpx.HTTPTransport(
        verify=network.ssl_context(),
        limits=limits,
        trust_env=False,
        proxy=None if network.proxy is None else httpx.Proxy(network.proxy),
    )
    if CONNECT_TO:  # the tests' --connect-to seam: httpx has no public hook for it
        pool: httpcore.ConnectionPool = transport._pool
        pool._network_backend = _ConnectTo(pool._network_backend, dict(CONNECT_TO))
    return transport


class _ConnectTo(httpcore.NetworkBackend):
    """Opens sockets to a mapped ``(host, port)``; TLS still checks the URL's own host."""

    def __init__(
        self, backend: httpcore.NetworkBackend, mapping: dict[tuple[str, int], tuple[str, int]]
    ) -> None:
        self._backend = backend
        self._mapping = mapping

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        host, port = self._mapping.get((host, port), (host, port))
        return self._backend.connect_tcp(host, port, timeout, local_address, socket_options)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def post_event(
    client: httpx.Client,
    url: str,
    body: bytes,
    idempotency_key: str,
    *,
    deadline: float = _deadline.REQUEST_DEADLINE,
) -> Attempt:
    """POST ``body`` once, taking at most ``deadline`` seconds in all (connect to last byte read);
    never raises for HTTP or transport failures."""
    headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key}
    started = time.perf_counter()
    try:
        with (
            _deadline.within(deadline),
            client.stream("POST", url, content=body, headers=headers) as response,
        ):
            received = bytearray()
            try:
                for chunk in response.iter_bytes():
                    received += chunk
                    if len(received) >= MAX_RESPONSE_BYTES:
                        del received[MAX_RESPONSE_BYTES:]
                        break
            except httpx.HTTPError:
                # The status line is the answer: a body cut short (the deadline, a connection
                # closed before its Content-Length, a Content-Encoding that does not decode) is
                # only evidence, and resending a 202 would start a second run.
                pass
            return Attempt(
                status_code=response.status_code,
                retry_after=response.headers.get("Retry-After"),
                elapsed=time.perf_counter() - started,
                body=bytes(received),
                headers=tuple(response.headers.multi_items()),
            )
    except httpx.TransportError as exc:
        return Attempt(
            status_code=None,
            error=transport_reason(exc),
            outcome_unknown=not isinstance(exc, _NEVER_SENT),
            elapsed=time.perf_counter() - started,
        )


#: Failures that happen before any byte of the request leaves: the outcome is known (no run).
_NEVER_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
