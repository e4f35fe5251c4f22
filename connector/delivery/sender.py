"""The delivery pipeline: profiles in, events durably out, one report.

Three kinds of thread, one owner per piece of state:

* a **reader** iterates the profiles (a file, stdin behind ``tail -f``, or a list), renders each
  one and hands the result to the coordinator; it blocks when too many events are in flight
  through the pipeline, so a large file never sits in memory;
* the **coordinator** (the caller's thread) alone touches the outbox and the schedule: it writes
  every batch of new events in one transaction *before* any of them is sent, dispatches events
  respecting per-identity order, the in-flight limit and retry times, and records each batch of
  outcomes in one transaction;
* **workers** (a pool of ``max_in_flight`` threads sharing one httpx client) take a token from the
  rate limiter and make one attempt each.

Per-identity order: an identity's next event is not sent while an earlier one is in flight,
waiting for a retry, or held (its retry time ran out; the rest of that identity stays pending for
the next run). Events of different identities are independent. Events left pending by an earlier
run are loaded first, so they go out before anything new for the same identity.
"""

from __future__ import annotations

import contextlib
import heapq
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx

from ..activation import Activation
from ..errors import AuthRejected, ContractViolation
from ..profiles import ProfileLine
from ..redact import redact_url
from ..render import Exclusion, Payload, Renderer
from .auth import QualtricsBasicAuth
from .client import Attempt, make_client, post_event
from .monitor import Alert, DeliveryReport
from .outbox import NewEvent, Outbox, StoredEvent, destination_key
from .policy import Backoff, Verdict, classify, parse_retry_after
from .ratelimit import TokenBucket
from .secrets import scrub, secret_values
from .urlguard import check_url
from .why import CONNECTION_REASONS, status_reason

__all__ = ["Sender", "deliver"]

#: Events the reader may run ahead of delivery (bounds memory; large enough for group commits).
MAX_AHEAD: Final = 2000
#: How often the progress callback is called at most, in seconds.
PROGRESS_EVERY: Final = 0.5
#: Failed attempts of one event, all connection errors and nothing delivered yet, after which
#: the run says at once that the destination cannot be reached (instead of retrying silently).
UNREACHABLE_AFTER: Final = 3


@dataclass(frozen=True, slots=True)
class _Input:
    """One rendered input item: kind is ``payload``, ``excluded``, ``failed``, ``unchanged`` or
    ``input-error`` (a line that is not a JSON object)."""

    kind: str
    payload: Payload | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class _Result:
    event: StoredEvent
    attempt: Attempt | None  # None: cancelled before sending (the run is stopping)


@dataclass(frozen=True, slots=True)
class _Crash:
    error: BaseException


_INPUT_DONE: Final = object()


@dataclass(slots=True)
class _Tries:
    attempts: int = 0
    first: float = 0.0


@dataclass(slots=True)
class _Batch:
    """What one coordinator turn collected from the inbox."""

    inputs: list[_Input] = field(default_factory=list)
    results: list[_Result] = field(default_factory=list)


class Sender:
    """Delivers one activation's profiles; ``run()`` once, then read ``report``.

    ``deliver()`` is the usual entry point; the CLI uses ``Sender`` to keep the report when the
    run ends in ``AuthRejected``.
    """

    def __init__(
        self,
        activation: Activation,
        *,
        token: str,
        state_dir: Path,
        url: str | None = None,
        username: str | None = None,
        allow_http_loopback: bool = False,
        rate_limit: float | None = 40.0,
        max_in_flight: int = 10,
        max_retry_time: float = 600.0,
        transport: httpx.BaseTransport | None = None,
        backoff: Backoff | None = None,
        max_skip_rate: float | None = None,
        on_alert: Callable[[Alert], None] | None = None,
        on_progress: Callable[[DeliveryReport], None] | None = None,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight!r}")
        self.activation = activation
        self._url = check_url(
            url or activation.destination.url, allow_http_loopback=allow_http_loopback
        )
        self._username = username if username is not None else activation.destination.username
        self._auth = QualtricsBasicAuth(self._username, token)
        self._secrets = secret_values(self._url, token)
        self.state_dir = Path(state_dir)
        self._max_in_flight = max_in_flight
        self._max_retry_time = max_retry_time
        self._transport = transport
        self._bucket = TokenBucket(rate_limit)
        self._backoff = backoff if backoff is not None else Backoff()
        self._on_progress = on_progress
        self.report = DeliveryReport(max_skip_rate=max_skip_rate, on_alert=on_alert)
        # Schedule (coordinator thread only).
        self._queues: dict[str, deque[StoredEvent]] = {}
        self._ready: deque[str] = deque()
        self._timers: list[tuple[float, int, str]] = []
        self._held: set[str] = set()
        self._tries: dict[str, _Tries] = {}
        self._slotted: set[str] = set()
        self._in_flight = 0
        self._only_connection_errors = True
        # Shared with the other threads.
        self._inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._slots = threading.Semaphore(MAX_AHEAD)
        self._stop = threading.Event()

    def __repr__(self) -> str:
        return f"Sender({self.activation.source!r}, state_dir={str(self.state_dir)!r})"

    def run(self, profiles: Iterable[Any]) -> DeliveryReport:
        """Deliver ``profiles`` (parsed objects or ``ProfileLine``s) plus what earlier runs left."""
        report = self.report
        with Outbox(self.state_dir, destination_key(self._url, self._username)) as outbox:
            report.alert("start", f"delivery to {self.activation.destination.name!r} started")
            for event in outbox.pending():
                self._enqueue(event, slotted=False)
            reader = threading.Thread(
                target=self._read, args=(profiles,), name="qharness-reader", daemon=True
            )
            client = make_client(
                self._auth, max_connections=self._max_in_flight, transport=self._transport
            )
            pool = ThreadPoolExecutor(self._max_in_flight, thread_name_prefix="qharness-send")
            try:
                reader.start()
                self._coordinate(outbox, client, pool)
            finally:
                self._stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                client.close()
                self._persist_leftovers(outbox)
                report.ledger.close()
                counts = outbox.counts()
                report.pending, report.dead_lettered = counts["pending"], counts["dead"]
        report.finish()
        if report.stopped_by is not None:
            raise AuthRejected(report.stopped_by)
        return report

    # -- the reader thread ------------------------------------------------------------------

    def _read(self, profiles: Iterable[Any]) -> None:
        renderer = Renderer(self.activation)
        try:
            for item in profiles:
                self._slots.acquire()
                if self._stop.is_set():
                    self._slots.release()
                    break
                self._inbox.put(_render(renderer, item))
        except BaseException as exc:  # an unreadable input must end the run, not hang it
            self._inbox.put(_Crash(exc))
            return
        self._inbox.put(_INPUT_DONE)

    # -- the coordinator ------------------------------------------------------------------------

    def _coordinate(self, outbox: Outbox, client: httpx.Client, pool: ThreadPoolExecutor) -> None:
        input_done = False
        last_progress = 0.0
        while True:
            batch, finished_input = self._collect()
            input_done = input_done or finished_input
            self._accept(outbox, batch.inputs)
            self._settle(outbox, batch.results)
            now = time.monotonic()
            while self._timers and self._timers[0][0] <= now:
                _, _, identity = heapq.heappop(self._timers)
                self._ready.append(identity)
            if self._stop.is_set():
                if self._in_flight == 0:
                    return
                continue
            while self._ready and self._in_flight < self._max_in_flight:
                event = self._queues[self._ready.popleft()][0]
                tries = self._tries.setdefault(event.event_id, _Tries(first=now))
                if tries.attempts:
                    self.report.retries += 1
                tries.attempts += 1
                self._in_flight += 1
                pool.submit(self._attempt, client, event)
            if self._on_progress is not None and now - last_progress >= PROGRESS_EVERY:
                last_progress = now
                self._on_progress(self.report)
            if input_done and self._in_flight == 0 and not self._ready and not self._timers:
                return

    def _collect(self) -> tuple[_Batch, bool]:
        """Wait for the next message (or timer), then take everything else already queued."""
        timeout = PROGRESS_EVERY
        if self._timers:
            timeout = min(timeout, max(0.0, self._timers[0][0] - time.monotonic()))
        batch = _Batch()
        done = False
        try:
            message: object = self._inbox.get(timeout=timeout)
        except queue.Empty:
            return batch, done
        while True:
            if isinstance(message, _Input):
                batch.inputs.append(message)
            elif isinstance(message, _Result):
                batch.results.append(message)
            elif isinstance(message, _Crash):
                raise message.error
            elif message is _INPUT_DONE:
                done = True
            try:
                message = self._inbox.get_nowait()
            except queue.Empty:
                return batch, done

    def _accept(self, outbox: Outbox, inputs: list[_Input]) -> None:
        """Count the inputs; write every payload (one transaction) before any is scheduled."""
        report = self.report
        fresh: list[NewEvent] = []
        for item in inputs:
            report.profiles_received += 1
            if item.kind == "payload" and item.payload is not None:
                payload = item.payload
                fresh.append(NewEvent(payload.event_id, payload.identity, payload.body))
                continue
            if item.kind == "excluded":
                report.excluded[item.reason] += 1
            elif item.kind == "failed":
                report.failed[item.reason] += 1
            elif item.kind == "input-error":
                report.ledger.input_errors += 1
            elif item.kind == "unchanged":
                report.ledger.unchanged += 1
            self._slots.release()
        stored, duplicates = outbox.add(fresh)
        for duplicate in duplicates:
            report.duplicates_skipped += 1
            state = outbox.state_of(duplicate.event_id)
            if state == "pending":
                report.ledger.track(duplicate.event_id)
            else:
                report.ledger.seen_before(state)
            self._slots.release()
        for event in stored:
            report.ledger.track(event.event_id)
            self._enqueue(event, slotted=True)

    def _settle(self, outbox: Outbox, results: list[_Result]) -> None:
        """Record a batch of outcomes in one transaction, then update the schedule."""
        delivered: list[str] = []
        dead: list[tuple[str, str, int | None]] = []
        finished: list[StoredEvent] = []
        now = time.monotonic()
        for result in results:
            self._in_flight -= 1
            event, attempt = result.event, result.attempt
            if attempt is None:  # cancelled: stays pending
                continue
            verdict = (
                Verdict.TRANSIENT if attempt.status_code is None else classify(attempt.status_code)
            )
            if verdict is Verdict.DELIVERED:
                self.report.ledger.settled(event.event_id, delivered=True)
                delivered.append(event.event_id)
                self.report.latencies.append(attempt.elapsed)
                self.report.identities_activated += 1
                finished.append(event)
            elif verdict is Verdict.PERMANENT:
                code = attempt.status_code
                dead.append((event.event_id, self._dead_reason(attempt), code))
                self.report.ledger.settled(event.event_id, delivered=False)
                self.report.failed[f"http-{code}"] += 1
                finished.append(event)
            elif verdict is Verdict.AUTH:
                if self.report.stopped_by is None:
                    self.report.stopped_by = attempt.status_code
                    self.report.failed[f"http-{attempt.status_code}"] += 1
                self._stop.set()
            else:
                self._retry_later(event, attempt, now)
        outbox.record(delivered, dead)
        for event in finished:
            self._finish(event)

    def _retry_later(self, event: StoredEvent, attempt: Attempt, now: float) -> None:
        tries = self._tries[event.event_id]
        self._say_why(attempt, tries.attempts)
        delay = self._backoff.delay(tries.attempts, parse_retry_after(attempt.retry_after))
        if now + delay - tries.first > self._max_retry_time:
            self.report.failed["retry-time-exceeded"] += 1
            self._hold(event.identity)
            return
        heapq.heappush(self._timers, (now + delay, event.seq, event.identity))

    def _say_why(self, attempt: Attempt, attempts: int) -> None:
        """Keep the last error for the report; when every attempt so far failed to connect and
        nothing was delivered, alert once, at once, instead of retrying in silence."""
        report = self.report
        reason = (
            status_reason(attempt.status_code)
            if attempt.status_code is not None
            else attempt.error or "no answer"
        )
        report.last_error = reason
        self._only_connection_errors &= reason in CONNECTION_REASONS
        if (
            self._only_connection_errors
            and attempts == UNREACHABLE_AFTER
            and report.identities_activated == 0
        ):
            self._only_connection_errors = False  # said once
            until = time.strftime("%H:%M:%S", time.localtime(time.time() + self._max_retry_time))
            report.alert(
                "unreachable",
                f"cannot reach {redact_url(self._url)}: {reason}; retrying each event until "
                f"about {until} (--max-retry-time {self._max_retry_time:g} s), then it stays "
                "pending for the next run",
            )

    def _dead_reason(self, attempt: Attempt) -> str:
        code = attempt.status_code
        phrase = httpx.codes.get_reason_phrase(code) if code is not None else ""
        reason = f"http {code} {phrase}".rstrip()
        if code is not None and 300 <= code < 400:
            reason += " (redirects are not followed)"
        snippet = attempt.body[:300].decode("utf-8", "replace").strip()
        snippet = scrub(snippet, self._secrets)
        return f"{reason}: {snippet}" if snippet else reason

    # -- the schedule -----------------------------------------------------------------------------

    def _enqueue(self, event: StoredEvent, *, slotted: bool) -> None:
        if event.identity in self._held:
            if slotted:
                self._slots.release()
            return
        if slotted:
            self._slotted.add(event.event_id)
        waiting = self._queues.setdefault(event.identity, deque())
        waiting.append(event)
        if len(waiting) == 1:
            self._ready.append(event.identity)

    def _finish(self, event: StoredEvent) -> None:
        waiting = self._queues[event.identity]
        waiting.popleft()
        self._release(event)
        self._tries.pop(event.event_id, None)
        if waiting:
            self._ready.append(event.identity)
        else:
            del self._queues[event.identity]

    def _hold(self, identity: str) -> None:
        """Stop sending ``identity`` for this run; its events stay pending, in order."""
        self._held.add(identity)
        for event in self._queues.pop(identity, deque()):
            self._release(event)

    def _release(self, event: StoredEvent) -> None:
        if event.event_id in self._slotted:
            self._slotted.discard(event.event_id)
            self._slots.release()

    # -- workers --------------------------------------------------------------------------------

    def _attempt(self, client: httpx.Client, event: StoredEvent) -> None:
        try:
            self._bucket.acquire()
            if self._stop.is_set():
                self._inbox.put(_Result(event, None))
                return
            self._inbox.put(
                _Result(event, post_event(client, self._url, event.body, event.event_id))
            )
        except BaseException as exc:
            self._inbox.put(_Crash(exc))

    def _persist_leftovers(self, outbox: Outbox) -> None:
        """On an early stop, write what the reader already rendered, so no read line is lost."""
        leftovers: list[_Input] = []
        with contextlib.suppress(queue.Empty):
            while True:
                message = self._inbox.get_nowait()
                if isinstance(message, _Input):
                    leftovers.append(message)
        self._accept(outbox, leftovers)  # counted and stored; the next run sends them
        self._slots.release()  # wakes a reader waiting for a slot, so that it sees the stop


def _render(renderer: Renderer, item: Any) -> _Input:
    profile = item
    source = ""
    if isinstance(item, ProfileLine):
        source = f"line {item.number}"
        if item.error is not None:
            return _Input("input-error", reason="invalid-profile")
        profile = item.profile
    if not isinstance(profile, dict):
        return _Input("input-error", reason="invalid-profile")
    try:
        result = renderer.render(profile, source=source)
    except ContractViolation:
        return _Input("failed", reason="contract-violation")
    if isinstance(result, Payload):
        return _Input("payload", payload=result)
    if isinstance(result, Exclusion):
        return _Input("excluded", reason=result.reason)
    return _Input("unchanged")


def deliver(
    activation: Activation,
    profiles: Iterable[Any],
    *,
    token: str,
    state_dir: Path,
    url: str | None = None,
    username: str | None = None,
    allow_http_loopback: bool = False,
    rate_limit: float | None = 40.0,
    max_in_flight: int = 10,
    max_retry_time: float = 600.0,
    transport: httpx.BaseTransport | None = None,
    backoff: Backoff | None = None,
    max_skip_rate: float | None = None,
    on_alert: Callable[[Alert], None] | None = None,
) -> DeliveryReport:
    """Deliver ``profiles`` to the activation's destination (or ``url``) through the outbox.

    Raises ``UrlGuardError`` for a refused URL, ``StateError`` when ``state_dir`` is locked, and
    ``AuthRejected`` on 401/403 (every event kept). Retry-time exhaustion and dead letters do not
    raise: they show in ``report.pending``, ``report.dead_lettered`` and ``report.failed``.
    """
    sender = Sender(
        activation,
        token=token,
        state_dir=state_dir,
        url=url,
        username=username,
        allow_http_loopback=allow_http_loopback,
        rate_limit=rate_limit,
        max_in_flight=max_in_flight,
        max_retry_time=max_retry_time,
        transport=transport,
        backoff=backoff,
        max_skip_rate=max_skip_rate,
        on_alert=on_alert,
    )
    return sender.run(profiles)
