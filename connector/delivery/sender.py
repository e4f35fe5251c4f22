"""The delivery pipeline: profiles in, events durably out, one report.

Three kinds of thread, one owner per piece of state:

* a **reader** iterates the profiles (a file, stdin behind ``tail -f``, or a list), renders each
  one and hands the result to the coordinator; it takes the next item only once a slot is free
  (so a large file never sits in memory) and the run goes on (so a stopping run never strands an
  item the reader took); a stopping run joins it, then writes what it handed over;
* the **coordinator** (the caller's thread) alone touches the outbox and the ``schedule``: it
  writes every batch of new events in one transaction *before* any of them is sent, marks each
  batch in doubt before its requests leave, and records each batch of outcomes in one
  transaction;
* **workers** (a pool of ``max_in_flight`` threads sharing one httpx client) take a token from the
  rate limiter and make one attempt each.

Delivery is at-least-once: Qualtrics documents no deduplication, so an event whose earlier request
got no answer (in flight at a kill, or the response lost) is resent and may start a second run.
Only such events are resent without a definite answer, and each resend is counted in the report
(``unknown_outcome_resends``). Per-identity order and retry times are ``schedule.Schedule``'s.
Events left pending by an earlier run are loaded first, so they go out before anything new for the
same identity.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterable
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
from .monitor import DeliveryReport
from .options import DeliveryOptions
from .outbox import NewEvent, Outbox, StoredEvent, destination_key
from .policy import Backoff, Verdict, classify, classify_aep, parse_retry_after
from .ratelimit import TokenBucket
from .schedule import Schedule
from .secrets import read_token, scrub, secret_values
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
#: How long a stopping run waits for the reader to hand over the item it holds.
READER_JOIN: Final = 5.0


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
class _Batch:
    """What one coordinator turn collected from the inbox."""

    inputs: list[_Input] = field(default_factory=list)
    results: list[_Result] = field(default_factory=list)


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
        )
        if token is None:  # read only once the URL is known to be one data may go to
            token = read_token(activation)
        username = options.username
        self._username = username if username is not None else activation.destination.username
        self._auth = QualtricsBasicAuth(self._username, token)
        self._secrets = secret_values(self._url, token)
        self.state_dir = Path(state_dir)
        self._bucket = TokenBucket(options.rate_limit)
        self._backoff = options.backoff if options.backoff is not None else Backoff()
        self.report = DeliveryReport(max_skip_rate=options.max_skip_rate, on_alert=options.on_alert)
        # Coordinator thread only.
        self._schedule = Schedule(options.max_in_flight)
        self._slotted: set[str] = set()
        self._only_connection_errors = True
        self._marked: set[str] = set()  # in doubt on disk
        self._doubtful: set[str] = set()  # an earlier attempt's outcome is unknown
        # Shared with the other threads.
        self._inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._slots = threading.Semaphore(MAX_AHEAD)
        self._stop = threading.Event()
        self._handoff = threading.Lock()
        self._closed = False
        self.unread: list[object] = []  # items the reader took after the run closed (see run)

    def __repr__(self) -> str:
        return f"Sender({self.activation.source!r}, state_dir={str(self.state_dir)!r})"

    def run(self, profiles: Iterable[Any]) -> DeliveryReport:
        """Deliver ``profiles`` (parsed objects or ``ProfileLine``s) plus what earlier runs left.

        Every item the reader took is in the outbox when this returns, except one that the input
        produced only after sending had stopped and the reader had been waited for
        (``READER_JOIN`` seconds): such items are kept in ``unread``, never dropped silently.
        """
        report = self.report
        with Outbox(self.state_dir, destination_key(self._url, self._username)) as outbox:
            report.alert("start", f"delivery to {self.activation.destination.name!r} started")
            for event in outbox.pending():
                if event.in_doubt:
                    self._marked.add(event.event_id)
                    self._doubtful.add(event.event_id)
                self._schedule.add(event)
            reader = threading.Thread(
                target=self._read, args=(profiles,), name="qharness-reader", daemon=True
            )
            client = make_client(
                self._auth, max_connections=self.options.max_in_flight,
                transport=self.options.transport,
            )  # fmt: skip
            pool = ThreadPoolExecutor(
                self.options.max_in_flight, thread_name_prefix="qharness-send"
            )
            try:
                reader.start()
                self._coordinate(outbox, client, pool)
            finally:
                self._stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                client.close()
                self._slots.release()  # wakes a reader waiting for a slot, so it sees the stop
                reader.join(timeout=READER_JOIN)
                self._persist_leftovers(outbox)
                report.ledger.close()
                counts = outbox.counts()
                report.pending, report.dead_lettered = counts["pending"], counts["dead"]
        report.finish()
        if report.stopped_by is not None:
            raise AuthRejected(report.stopped_by, report=report)
        return report

    # -- the reader thread ------------------------------------------------------------------

    def _read(self, profiles: Iterable[Any]) -> None:
        """Take an item only once a slot is free and the run goes on, then hand it over."""
        renderer = Renderer(self.activation)
        items = iter(profiles)
        try:
            while True:
                self._slots.acquire()
                if self._stop.is_set():
                    self._slots.release()
                    return
                try:
                    item = next(items)
                except StopIteration:
                    self._slots.release()
                    self._hand_over(_INPUT_DONE)
                    return
                self._hand_over(_render(renderer, item))
        except BaseException as exc:  # an unreadable input must end the run, not hang it
            self._hand_over(_Crash(exc))

    def _hand_over(self, message: object) -> None:
        with self._handoff:
            if self._closed:
                self.unread.append(message)
            else:
                self._inbox.put(message)

    # -- the coordinator ------------------------------------------------------------------------

    def _coordinate(self, outbox: Outbox, client: httpx.Client, pool: ThreadPoolExecutor) -> None:
        input_done = False
        last_progress = 0.0
        schedule = self._schedule
        while True:
            batch, finished_input = self._collect()
            input_done = input_done or finished_input
            self._accept(outbox, batch.inputs)
            self._settle(outbox, batch.results)
            if self._stop.is_set():
                if schedule.in_flight == 0:
                    return
                continue
            self._dispatch(outbox, client, pool)
            now = time.monotonic()
            on_progress = self.options.on_progress
            if on_progress is not None and now - last_progress >= PROGRESS_EVERY:
                last_progress = now
                on_progress(self.report)
            if input_done and schedule.idle:
                return

    def _dispatch(self, outbox: Outbox, client: httpx.Client, pool: ThreadPoolExecutor) -> None:
        """Send what is due; each event is marked in doubt on disk before its request leaves."""
        due = self._schedule.due()
        if not due:
            return
        resent = [e.event_id for e in due if e.event_id in self._doubtful]
        outbox.mark_in_doubt([e.event_id for e in due if e.event_id not in self._marked], resent)
        self.report.add("unknown_outcome_resends", len(resent))
        for event in due:
            self._marked.add(event.event_id)
            if self._schedule.tries(event).attempts > 1:
                self.report.add("retries")
            pool.submit(self._attempt, client, event)

    def _collect(self) -> tuple[_Batch, bool]:
        """Wait for the next message (or timer), then take everything else already queued."""
        timeout = PROGRESS_EVERY
        wakeup = self._schedule.next_wakeup()
        if wakeup is not None:
            timeout = min(timeout, wakeup)
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
            report.add("profiles_received")
            if item.kind == "payload" and item.payload is not None:
                payload = item.payload
                fresh.append(NewEvent(payload.event_id, payload.identity, payload.body))
                continue
            if item.kind == "excluded":
                report.tally("excluded", item.reason)
            elif item.kind == "failed":
                report.tally("failed", item.reason)
            elif item.kind == "input-error":
                report.ledger.input_errors += 1
            elif item.kind == "unchanged":
                report.ledger.unchanged += 1
            self._slots.release()
        stored, duplicates = outbox.add(fresh)
        for duplicate in duplicates:
            report.add("duplicates_skipped")
            state = outbox.state_of(duplicate.event_id)
            if state == "pending":
                report.ledger.track(duplicate.event_id)
            else:
                report.ledger.seen_before(state)
            self._slots.release()
        for event in stored:
            report.ledger.track(event.event_id)
            if self._schedule.add(event):
                self._slotted.add(event.event_id)
            else:
                self._slots.release()

    def _settle(self, outbox: Outbox, results: list[_Result]) -> None:
        """Record a batch of outcomes in one transaction, then update the schedule."""
        delivered: list[str] = []
        dead: list[tuple[str, str, int | None]] = []
        answered: list[str] = []
        finished: list[StoredEvent] = []
        aep = self.options.retry_policy == "aep"
        for result in results:
            self._schedule.returned()
            event, attempt = result.event, result.attempt
            if attempt is None or (attempt.status_code is None and not attempt.outcome_unknown):
                # Never left (cancelled, or no connection): the doubt is what it was before.
                if event.event_id not in self._doubtful:
                    answered.append(event.event_id)
                if attempt is None:
                    continue
            elif attempt.status_code is None:
                self._doubtful.add(event.event_id)
            else:
                answered.append(event.event_id)
            code = attempt.status_code
            verdict = classify_aep(code) if aep else (
                Verdict.TRANSIENT if code is None else classify(code)
            )  # fmt: skip
            if verdict is Verdict.DELIVERED:
                self.report.ledger.settled(event.event_id, delivered=True)
                delivered.append(event.event_id)
                self.report.latency(attempt.elapsed)
                self.report.add("identities_activated")
                finished.append(event)
            elif verdict is Verdict.PERMANENT:
                dead.append((event.event_id, self._dead_reason(attempt), code))
                self.report.ledger.settled(event.event_id, delivered=False)
                self.report.tally("failed", f"http-{code}")
                finished.append(event)
            elif verdict is Verdict.DROPPED:
                self._drop(event, attempt, dead, finished)
            elif verdict is Verdict.AUTH:
                if self.report.stopped_by is None:
                    self.report.stopped_by = code
                    self.report.tally("failed", f"http-{code}")
                self._stop.set()
            elif aep:
                self._retry_aep(event, attempt, dead, finished)
            else:
                self._retry_later(event, attempt)
        settled = set(delivered) | {event_id for event_id, _, _ in dead}
        answered = [event_id for event_id in answered if event_id not in settled]
        outbox.record(delivered, dead, answered)
        for event_id in (*settled, *answered):
            self._marked.discard(event_id)
            self._doubtful.discard(event_id)
        for event in finished:
            self._schedule.finish(event)
            self._release(event)

    def _retry_later(self, event: StoredEvent, attempt: Attempt) -> None:
        tries = self._schedule.tries(event)
        self._say_why(attempt, tries.attempts)
        delay = self._backoff.delay(tries.attempts, parse_retry_after(attempt.retry_after))
        if self._schedule.clock() + delay - tries.first > self.options.max_retry_time:
            self.report.tally("failed", "retry-time-exceeded")
            for held in self._schedule.hold(event.identity):
                self._release(held)
            return
        self._schedule.retry_in(event, delay)

    def _retry_aep(
        self,
        event: StoredEvent,
        attempt: Attempt,
        dead: list[tuple[str, str, int | None]],
        finished: list[StoredEvent],
    ) -> None:
        """Adobe's best effort: the next of its fixed waits, or dropped after the last."""
        attempts = self._schedule.tries(event).attempts
        self._say_why(attempt, attempts)
        waits = self.options.aep_retry_waits
        if attempts > len(waits):
            self._drop(event, attempt, dead, finished)
        else:
            self._schedule.retry_in(event, waits[attempts - 1])

    def _drop(
        self,
        event: StoredEvent,
        attempt: Attempt,
        dead: list[tuple[str, str, int | None]],
        finished: list[StoredEvent],
    ) -> None:
        code = attempt.status_code
        attempts = self._schedule.tries(event).attempts
        reason = f"http-{code}" if code is not None else "connection-error"
        self.report.tally("dropped", reason)
        self.report.ledger.settled(event.event_id, delivered=False)
        dead.append(
            (
                event.event_id,
                f"dropped after {attempts} attempt(s) by --retry-policy aep: "
                + self._dead_reason(attempt),
                code,
            )
        )
        finished.append(event)

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
            until = time.strftime(
                "%H:%M:%S", time.localtime(time.time() + self.options.max_retry_time)
            )
            report.alert(
                "unreachable",
                f"cannot reach {redact_url(self._url)}: {reason}; retrying each event until "
                f"about {until} (--max-retry-time {self.options.max_retry_time:g} s), then it stays "
                "pending for the next run",
            )

    def _dead_reason(self, attempt: Attempt) -> str:
        code = attempt.status_code
        if code is None:
            return f"no answer ({attempt.error or 'connection error'})"
        phrase = httpx.codes.get_reason_phrase(code)
        reason = f"http {code} {phrase}".rstrip()
        if 300 <= code < 400:
            reason += " (redirects are not followed)"
        snippet = attempt.body[:300].decode("utf-8", "replace").strip()
        snippet = scrub(snippet, self._secrets)
        return f"{reason}: {snippet}" if snippet else reason

    def _release(self, event: StoredEvent) -> None:
        """Give back the reader's slot an event took (events from earlier runs took none)."""
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
        with self._handoff:
            self._closed = True
        leftovers: list[_Input] = []
        with contextlib.suppress(queue.Empty):
            while True:
                message = self._inbox.get_nowait()
                if isinstance(message, _Input):
                    leftovers.append(message)
        self._accept(outbox, leftovers)  # counted, stored and tracked; the next run sends them
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
    token: str | None = None,
    state_dir: Path,
    options: DeliveryOptions | None = None,
) -> DeliveryReport:
    """Deliver ``profiles`` to the activation's destination (or ``options.url``) via the outbox.

    ``token`` defaults to the environment variable ``destination.api_token_env`` names.
    Raises ``UrlGuardError`` for a refused URL, ``SecretError`` for an unset token, ``StateError`` when ``state_dir`` is locked, and
    ``AuthRejected`` on 401/403 (every event kept; the exception carries the report).
    Retry-time exhaustion, dead letters and drops do not raise: they show in ``report.pending``,
    ``report.dead_lettered``, ``report.failed`` and ``report.dropped``.
    """
    return Sender(activation, token=token, state_dir=state_dir, options=options).run(profiles)
