"""The coordinator: the one thread that owns a run's outbox and schedule.

It collects what the reader and the workers handed to the inbox, writes every batch of new events
in one transaction *before* any of them is sent, marks each batch in doubt before its requests
leave, and records each batch of outcomes in one transaction. What an answer means is
``policy``'s (``classify``, or ``classify_aep`` for Adobe's best effort); when to try again is the
``schedule``'s. Delivery is at-least-once: an event whose earlier request got no answer is resent
only as such, and each resend is counted (``unknown_outcome_resends``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

import httpx

from ..redact import redact_url
from .client import Attempt
from .deadline import REQUEST_DEADLINE
from .inbox import Inbox, Rendered, Returned
from .monitor import DeliveryReport
from .options import DeliveryOptions
from .outbox import NewEvent, Outbox, StoredEvent
from .policy import Backoff, Verdict, classify, classify_aep, parse_retry_after
from .schedule import Schedule
from .secrets import scrub
from .why import CONNECTION_REASONS, status_reason

__all__ = ["MIN_REQUEST_TIME", "PROGRESS_EVERY", "PRUNE_EVERY", "UNREACHABLE_AFTER", "Coordinator"]

#: How often the progress callback is called at most, in seconds.
PROGRESS_EVERY: Final = 0.5
#: How often a long run forgets delivered events older than ``keep_delivered``, in seconds (a
#: ``send`` reading a stream for days stays bounded too; every run also prunes when it starts).
PRUNE_EVERY: Final = 3600.0
#: Failed attempts of one event, all connection errors and nothing delivered yet, after which
#: the run says at once that the destination cannot be reached (instead of retrying silently).
UNREACHABLE_AFTER: Final = 3
#: The least time an attempt gets, even with ``--max-retry-time`` spent (so ``0`` still makes one).
MIN_REQUEST_TIME: Final = 1.0

#: Hands one event to a worker, with the seconds its request may take in all.
Send = Callable[[StoredEvent, float], object]

_Dead = list[tuple[str, str, int | None]]  # (event id, reason, status code) for outbox.record


class Coordinator:
    """Runs in the caller's thread; ``run(send)`` returns when the input is done and every event
    settled or held, or at once (after the requests in flight) when the run stops."""

    def __init__(
        self,
        outbox: Outbox,
        inbox: Inbox,
        report: DeliveryReport,
        options: DeliveryOptions,
        *,
        url: str,
        secrets: tuple[str, ...],
    ) -> None:
        self._outbox = outbox
        self._inbox = inbox
        self.report = report
        self._options = options
        self._url = url
        self._secrets = secrets
        self._backoff = options.backoff if options.backoff is not None else Backoff()
        self._schedule = Schedule(options.max_in_flight)
        self._slotted: set[str] = set()  # events holding a reader slot
        self._only_connection_errors = True
        self._marked: set[str] = set()  # in doubt on disk
        self._doubtful: set[str] = set()  # an earlier attempt's outcome is unknown

    def load_pending(self) -> None:
        """Events left pending by earlier runs go first, so they precede anything new for the
        same identity."""
        for event in self._outbox.pending():
            if event.in_doubt:
                self._marked.add(event.event_id)
                self._doubtful.add(event.event_id)
            self._schedule.add(event)

    def run(self, send: Send) -> None:
        """Coordinate until done; ``send`` hands one event and its request's deadline to a
        worker."""
        input_done = False
        last_progress = 0.0
        last_prune = time.monotonic()
        schedule = self._schedule
        stop = self._inbox.stop
        while True:
            timeout = PROGRESS_EVERY
            wakeup = schedule.next_wakeup()
            if wakeup is not None:
                timeout = min(timeout, wakeup)
            batch = self._inbox.collect(timeout)
            input_done = input_done or batch.input_done
            self.accept(batch.inputs)
            self._settle(batch.results)
            if stop.is_set():
                if schedule.in_flight == 0:
                    return
                continue
            self._dispatch(send)
            now = time.monotonic()
            on_progress = self._options.on_progress
            if on_progress is not None and now - last_progress >= PROGRESS_EVERY:
                last_progress = now
                on_progress(self.report)
            if now - last_prune >= PRUNE_EVERY:
                last_prune = now
                self._outbox.prune_delivered(self._options.keep_delivered)
            if input_done and schedule.idle:
                return

    def accept(self, inputs: list[Rendered]) -> None:
        """Count the inputs; write every payload (one transaction) before any is scheduled."""
        report = self.report
        outbox = self._outbox
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
            self._inbox.release_slot()
        stored, duplicates = outbox.add(fresh)
        for duplicate in duplicates:
            report.add("duplicates_skipped")
            state = outbox.state_of(duplicate.event_id)
            if state == "pending":
                report.ledger.track(duplicate.event_id)
            else:
                report.ledger.seen_before(state)
            self._inbox.release_slot()
        for event in stored:
            report.ledger.track(event.event_id)
            if self._schedule.add(event):
                self._slotted.add(event.event_id)
            else:
                self._inbox.release_slot()

    def _dispatch(self, send: Send) -> None:
        """Send what is due; each event is marked in doubt on disk before its request leaves.

        A request may take ``REQUEST_DEADLINE`` at most, and no longer than what is left of the
        event's ``--max-retry-time`` (but ``MIN_REQUEST_TIME`` at least): a slow answer cannot
        keep an event past its retry window."""
        due = self._schedule.due()
        if not due:
            return
        resent = [e.event_id for e in due if e.event_id in self._doubtful]
        self._outbox.mark_in_doubt(
            [e.event_id for e in due if e.event_id not in self._marked], resent
        )
        self.report.add("unknown_outcome_resends", len(resent))
        for event in due:
            self._marked.add(event.event_id)
            tries = self._schedule.tries(event)
            if tries.attempts > 1:
                self.report.add("retries")
            left = self._options.max_retry_time - (self._schedule.clock() - tries.first)
            send(event, min(REQUEST_DEADLINE, max(MIN_REQUEST_TIME, left)))

    def _settle(self, results: list[Returned]) -> None:
        """Record a batch of outcomes in one transaction, then update the schedule."""
        delivered: list[str] = []
        dead: _Dead = []
        answered: list[str] = []
        finished: list[StoredEvent] = []
        aep = self._options.retry_policy == "aep"
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
                self._inbox.stop.set()
            elif aep:
                self._retry_aep(event, attempt, dead, finished)
            else:
                self._retry_later(event, attempt)
        settled = set(delivered) | {event_id for event_id, _, _ in dead}
        answered = [event_id for event_id in answered if event_id not in settled]
        self._outbox.record(delivered, dead, answered)
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
        if self._schedule.clock() + delay - tries.first > self._options.max_retry_time:
            self.report.tally("failed", "retry-time-exceeded")
            for held in self._schedule.hold(event.identity):
                self._release(held)
            return
        self._schedule.retry_in(event, delay)

    def _retry_aep(
        self, event: StoredEvent, attempt: Attempt, dead: _Dead, finished: list[StoredEvent]
    ) -> None:
        """Adobe's best effort: the next of its fixed waits, or dropped after the last."""
        attempts = self._schedule.tries(event).attempts
        self._say_why(attempt, attempts)
        waits = self._options.aep_retry_waits
        if attempts > len(waits):
            self._drop(event, attempt, dead, finished)
        else:
            self._schedule.retry_in(event, waits[attempts - 1])

    def _drop(
        self, event: StoredEvent, attempt: Attempt, dead: _Dead, finished: list[StoredEvent]
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
        self._only_connection_errors &= reason in CONNECTION_REASONS or reason.startswith("TLS: ")
        if (
            self._only_connection_errors
            and attempts == UNREACHABLE_AFTER
            and report.identities_activated == 0
        ):
            self._only_connection_errors = False  # said once
            max_retry_time = self._options.max_retry_time
            until = time.strftime("%H:%M:%S", time.localtime(time.time() + max_retry_time))
            report.alert(
                "unreachable",
                f"cannot reach {redact_url(self._url)}: {reason}; retrying each event until "
                f"about {until} (--max-retry-time {max_retry_time:g} s), then it stays "
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
            self._inbox.release_slot()
