"""How one delivery run behaves: every knob of ``Sender`` and ``deliver()`` in one place.

The token is not here: it is a secret, passed on its own and never kept in a dataclass that could
be printed. Everything else (where to send, how fast, how long to retry, which retry policy, what to
call back) is a field with the spec's default, so a caller names only what it changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import httpx

from .network import DIRECT, Network
from .policy import AEP_RETRY_WAITS, Backoff

if TYPE_CHECKING:
    from .monitor import Alert, DeliveryReport

__all__ = ["KEEP_DELIVERED_DAYS", "RETRY_POLICIES", "DeliveryOptions"]

#: How long delivered event ids are kept to skip a re-sent input (Qualtrics keeps runs 30 days).
KEEP_DELIVERED_DAYS: Final = 30.0

#: ``harness``: the connector's own policy (exponential backoff, dead letters, stop on 401/403).
#: ``aep``: Adobe's documented best effort for this destination (two retries, then dropped).
RETRY_POLICIES: Final = ("harness", "aep")


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    """Everything about a run but the token; the defaults are the spec's."""

    #: The trigger URL (default: the activation's ``destination.url``) and the user name.
    url: str | None = None
    username: str | None = None
    #: Plain http, only to loopback (the mock).
    allow_http_loopback: bool = False
    #: Further mock hosts plain http may go to, by name (a CI service container).
    allow_mock_hosts: tuple[str, ...] = ()
    #: Requests per second (token bucket); ``None``: unlimited.
    rate_limit: float | None = 40.0
    max_in_flight: int = 10
    #: Per event within one run; past it the event stays pending for the next run.
    max_retry_time: float = 600.0
    retry_policy: str = "harness"
    #: The waits before ``aep``'s two retries (Adobe's 15 s and 30 s; tests shrink them).
    aep_retry_waits: tuple[float, ...] = AEP_RETRY_WAITS
    backoff: Backoff | None = None
    max_skip_rate: float | None = None
    #: Seconds a delivered event's id is kept (a re-sent input within it is skipped), then pruned.
    keep_delivered: float = KEEP_DELIVERED_DAYS * 86_400.0
    #: Wall-clock time for the outbox's timestamps and pruning (tests age events with it).
    clock: Callable[[], float] = field(default=time.time, repr=False)
    #: Extra trusted roots and a CONNECT proxy (``network.Network``); default: direct, OS store.
    network: Network = DIRECT
    transport: httpx.BaseTransport | None = field(default=None, repr=False)
    on_alert: Callable[[Alert], None] | None = field(default=None, repr=False)
    on_progress: Callable[[DeliveryReport], None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {self.max_in_flight!r}")
        if self.keep_delivered < 0:
            raise ValueError(
                f"keep_delivered must be 0 or more seconds, got {self.keep_delivered!r}"
            )
        if self.retry_policy not in RETRY_POLICIES:
            raise ValueError(
                f"retry_policy must be one of {', '.join(RETRY_POLICIES)}, "
                f"got {self.retry_policy!r}"
            )
