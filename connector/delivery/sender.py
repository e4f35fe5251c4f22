"""The delivery pipeline: profiles in, events durably out, one report.

Three kinds of thread, one owner per piece of state, talking only through the ``inbox``:

* a **reader** (``reader``) iterates the profiles, renders each one and hands it over, at most
  ``MAX_AHEAD`` items ahead of delivery; a stopping run joins it, then writes what it handed over;
* the **coordinator** (``coordinator``, the caller's thread) alone touches the outbox and the
  schedule: every event is on disk before it is sent, and in doubt on disk while its request is
  out;
* **workers** (a pool of ``max_in_flight`` threads sharing one httpx client) take a token from the
  rate limiter and make one attempt each.

``Sender`` wires them together and owns the run's lifetime: the URL guard and the token first,
then the outbox, the threads, and an orderly stop. Delivery is at-least-once: Qualtrics documents
no deduplication, so an event whose earlier request got no answer (in flight at a kill, or the
response lost) is resent and may start a second run; each resend is counted in the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from ..activation import Activation
from ..errors import AuthRejected, OutboxError
from ..redact import redact_url
from .auth import QualtricsBasicAuth
from .client import make_client, post_event
from .coordinator import Coordinator
from .inbox import Crash, Inbox, Returned
from .monitor import DeliveryReport
from .options import DeliveryOptions
from .outbox import DestinationLabel, Outbox, StoredEvent, destination_key
from .ratelimit import TokenBucket
from .reader import start_reader
from .secrets import read_token, secret_values
from .urlguard import check_url

__all__ = ["Sender", "deliver"]

#: Events the reader may run ahead of delivery (bounds memory; large enough for group commits).
MAX_AHEAD: Final = 2000
#: How long a stopping run waits for the reader to hand over the item it holds.
READER_JOIN: Final = 5.0


class Sender:
    """Delivers one activation's profiles; ``run()`` once, then read ``report``.

    ``deliver()`` is the usual entry point. On 401/403 ``run()`` raises ``AuthRejected``, which
    carries the report of the run so far.
    """

    def __init__(
        self,
        activation: Activation,
        *,
        token: str | None = None,
        state_dir: Path,
        options: DeliveryOptions | None = None,
    ) -> None:
        options = options if options is not None else DeliveryOptions()
        self.activation = activation
        self.options = options
        self._url = check_url(
            options.url or activation.destination.url,
            allow_http_loopback=options.allow_http_loopback,
            allow_mock_hosts=options.allow_mock_hosts,
        )
        if token is None:  # read only once the URL is known to be one data may go to
            token = read_token(activation)
        username = options.username
        self._username = username if username is not None else activation.destination.username
        self._auth = QualtricsBasicAuth(self._username, token)
        self._secrets = secret_values(self._url, token)
        self.state_dir = Path(state_dir)
        self._bucket = TokenBucket(options.rate_limit)
        self.report = DeliveryReport(max_skip_rate=options.max_skip_rate, on_alert=options.on_alert)
        self._inbox = Inbox(MAX_AHEAD)

    def __repr__(self) -> str:
        return f"Sender({self.activation.source!r}, state_dir={str(self.state_dir)!r})"

    @property
    def unread(self) -> list[object]:
        """Items the reader handed over after the run closed (see ``run``)."""
        return self._inbox.unread

    def run(self, profiles: Iterable[Any]) -> DeliveryReport:
        """Deliver ``profiles`` (parsed objects, ``ProfileLine``s or ``Payload``s rendered already)
        plus what earlier runs left.

        Every item the reader took is in the outbox when this returns, except one that the input
        produced only after sending had stopped and the reader had been waited for
        (``READER_JOIN`` seconds): such items are kept in ``unread``, never dropped silently.
        """
        report = self.report
        inbox = self._inbox
        label = DestinationLabel(
            self.activation.destination.name,
            urlsplit(self._url).hostname or "",
            redact_url(self._url),
        )
        with Outbox(
            self.state_dir, destination_key(self._url, self._username),
            label=label, clock=self.options.clock,
        ) as outbox:  # fmt: skip
            outbox.prune_delivered(self.options.keep_delivered)
            report.alert("start", f"delivery to {self.activation.destination.name!r} started")
            coordinator = Coordinator(
                outbox, inbox, report, self.options, url=self._url, secrets=self._secrets
            )
            coordinator.load_pending()
            client = make_client(
                self._auth, network=self.options.network,
                max_connections=self.options.max_in_flight, transport=self.options.transport,
            )  # fmt: skip
            pool = ThreadPoolExecutor(
                self.options.max_in_flight, thread_name_prefix="qharness-send"
            )
            reader = None
            failure: OutboxError | None = None
            try:
                reader = start_reader(self.activation, profiles, inbox)
                coordinator.run(
                    lambda event, deadline: pool.submit(self._attempt, client, event, deadline)
                )
            except OutboxError as exc:
                failure = exc
            finally:
                inbox.stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                client.close()
                inbox.release_slot()  # wakes a reader waiting for a slot, so it sees the stop
                if reader is not None:
                    reader.join(timeout=READER_JOIN)
                # On an early stop, write what the reader already rendered: no read line is lost
                # (counted, stored and tracked; the next run sends them).
                leftovers = inbox.close()
                failure = _unless_failed(failure, lambda: coordinator.accept(leftovers))
                inbox.release_slot()  # wakes a reader waiting for a slot, so that it sees the stop
                report.ledger.close()
                failure = _unless_failed(failure, lambda: self._count(outbox))
        if failure is not None:
            report.store_error = str(failure)
            report.alert("store-error", str(failure))
        report.finish()
        if failure is not None:
            raise OutboxError(str(failure), report=report)
        if report.stopped_by is not None:
            raise AuthRejected(report.stopped_by, report=report)
        return report

    def _count(self, outbox: Outbox) -> None:
        counts = outbox.counts()
        self.report.pending, self.report.dead_lettered = counts["pending"], counts["dead"]

    def _attempt(self, client: httpx.Client, event: StoredEvent, deadline: float) -> None:
        """A worker's one attempt at ``event`` (after a rate-limit token), reported to the inbox;
        its request ends within ``deadline`` seconds of leaving."""
        inbox = self._inbox
        try:
            self._bucket.acquire()
            if inbox.stop.is_set():
                inbox.put(Returned(event, None))
                return
            attempt = post_event(client, self._url, event.body, event.event_id, deadline=deadline)
            inbox.put(Returned(event, attempt))
        except BaseException as exc:
            inbox.put(Crash(exc))


def _unless_failed(failure: OutboxError | None, step: Callable[[], object]) -> OutboxError | None:
    """Run a closing ``step`` that writes to the outbox, unless the outbox already failed (then
    its writes would fail the same way); the first failure is the one kept."""
    if failure is not None:
        return failure
    try:
        step()
    except OutboxError as exc:
        return exc
    return None


def deliver(
    activation: Activation,
    profiles: Iterable[Any],
    *,
    token: str | None = None,
    state_dir: Path,
    options: DeliveryOptions | None = None,
) -> DeliveryReport:
    """Deliver ``profiles`` to the activation's destination (or ``options.url``) via the outbox.

    ``token`` defaults to the environment variable ``destination.api_token_env`` names.
    Raises ``UrlGuardError`` for a refused URL, ``SecretError`` for an unset token,
    ``StateError`` when ``state_dir`` is locked, ``AuthRejected`` on 401/403 (every event
    kept; the exception carries the report), and ``OutboxError`` when the outbox stops taking
    writes mid-run (a full disk: what was stored is kept; the exception carries the report).
    Retry-time exhaustion, dead letters and drops do not raise: they show in ``report.pending``,
    ``report.dead_lettered``, ``report.failed`` and ``report.dropped``.
    """
    return Sender(activation, token=token, state_dir=state_dir, options=options).run(profiles)
