"""The store's single writer: a queue of typed ops, applied in group commits by one thread.

Why one writer: SQLite takes one write lock per database, so request threads that each commit
fight over it. Request threads append an op to a queue and get a ticket; one thread drains the
queue and commits everything pending in one transaction (group commit): whatever queued while one
commit ran goes into the next, so one commit serves every request waiting on it. (Waiting a few
milliseconds for more to join was slower here: 1.43-1.46k against 1.63-1.85k requests/s with
``wrk -c32`` against ``qharness mock serve``. So was letting a requester commit its own op when
the writer was idle, a leader-based group commit: 0.05 ms saved on a quiet mock's write, but 9-12%
fewer events/s under load, 2.08-2.16k against 2.38k.) A trigger request answers 202 only after
:meth:`GroupWriter.wait` says its ticket is committed: an acknowledged run survives a kill of the
process.

Failures stay local. A batch is first applied as one transaction; if any op raises, the whole
transaction is rolled back (nothing in it was answered yet) and replayed with a savepoint per op,
so the failing op fails alone and its requester hears about it from :meth:`wait`, while the others
commit. Timers for queued runs are taken up only after their commit, and due runs are finished in
the same transactions, so the writer's memory follows what is on disk. So does the state's: each
op's ``remember`` runs here, right after its commit and before its requester is told, in commit
order. An op the database refused on the requester's account (:class:`~mock_qualtrics.ops.Refused`,
:class:`~mock_qualtrics.ops.Missing`) reaches :meth:`GroupWriter.wait` as itself and is not logged.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Sequence

from . import history
from .incidents import RepeatedErrors
from .ops import AcceptRun, Missing, Op, Refused, Tx, apply_all, finish_safely
from .records import PendingRun

__all__ = ["GroupWriter", "StoreError"]

log = logging.getLogger(__name__)

_SWEEP_EVERY = 60.0  # seconds between retention sweeps


class StoreError(RuntimeError):
    """A write could not be committed (or the store is closed); nothing of it was kept."""


_Entry = tuple[int, Op, bool]  # ticket, op, whether someone waits for the outcome
_EXPECTED = (Refused, Missing)  # the requester's doing: answered, never logged


class GroupWriter:
    """One thread applying ops to ``db`` (guarded by ``db_lock``) in group commits."""

    def __init__(
        self,
        db: sqlite3.Connection,
        db_lock: threading.RLock,
        *,
        history_limit: int,
        journal_limit: int,
        retention_seconds: float,
    ) -> None:
        self._db = db
        self._db_lock = db_lock
        self.history_limit = history_limit
        self.journal_limit = journal_limit
        self.retention_seconds = retention_seconds
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._progress = threading.Condition(self._lock)
        self._queue: list[_Entry] = []
        self._submitted = 0
        self._applied = 0
        self._failures: dict[int, BaseException] = {}
        self._commits = 0  # bumped on every commit, timer-only ones included
        self._timers: list[tuple[float, int, PendingRun]] = []
        self._timer_seq = itertools.count()
        self._waking = False
        self._stopping = False
        self._closed = False
        self._last_sweep = 0.0
        self._errors = RepeatedErrors(log)  # a full disk fails every commit: say it once
        self._thread = threading.Thread(target=self._loop, name="mock-store-writer", daemon=True)
        self._thread.start()

    # -- requesters ------------------------------------------------------------------------

    def submit(self, op: Op, *, wait: bool = False) -> int:
        """Queue ``op``; its ticket. Pass ``wait=True`` to learn its fate from :meth:`wait`."""
        with self._lock:
            if self._stopping:
                raise StoreError("the mock's store is closed")
            self._submitted += 1
            self._queue.append((self._submitted, op, wait))
            if len(self._queue) == 1:  # the writer only waits on an empty queue
                self._work.notify()
            return self._submitted

    def wait(self, ticket: int, timeout: float = 30.0) -> None:
        """Block until ``ticket``'s op is committed; raise :class:`StoreError` if it failed
        (:class:`~mock_qualtrics.ops.Refused` or :class:`~mock_qualtrics.ops.Missing` as
        themselves)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._applied < ticket:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    raise StoreError("the mock's store did not commit this write in time")
                self._progress.wait(remaining)
            error = self._failures.pop(ticket, None)
        if isinstance(error, _EXPECTED):
            raise error
        if error is not None:
            raise StoreError(f"the write failed: {type(error).__name__}: {error}") from error

    def run(self, op: Op) -> None:
        """Apply ``op`` and wait for its commit (admin changes: users, workflows, reset)."""
        self.wait(self.submit(op, wait=True))

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every op submitted so far is committed (and visible to readers)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            target = self._submitted
            while self._applied < target and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._progress.wait(remaining)
        return True

    @property
    def generation(self) -> int:
        """A number that changes whenever the writer commits."""
        with self._lock:
            return self._commits

    def wait_change(self, generation: int, timeout: float) -> bool:
        """Block until the writer commits past ``generation`` (True), or ``timeout`` passes or
        the mock is shutting down (False: stop waiting)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._commits == generation:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._waking:
                    return False
                self._progress.wait(remaining)
            return not self._waking

    def wake(self) -> None:
        """End every long-poll now (they answer ``timed_out``); the mock is shutting down."""
        with self._lock:
            self._waking = True
            self._progress.notify_all()

    def close(self) -> None:
        """Finish every queued run now, commit everything, stop the writer thread."""
        with self._lock:
            self._waking = True
            if not self._stopping:
                self._stopping = True
                self._work.notify()
            self._progress.notify_all()
        self._thread.join()

    # -- the writer thread -----------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopping:
                    wait = self._timers[0][0] - time.time() if self._timers else None
                    if wait is not None and wait <= 0:
                        break
                    self._work.wait(wait if wait is None else min(wait, 60.0))
                batch, self._queue = self._queue, []
                stopping = self._stopping
            failures = self._commit(batch, drain=stopping)
            with self._lock:
                if batch:
                    self._applied = batch[-1][0]
                self._failures.update(failures)
                self._commits += 1
                if stopping and not self._queue:
                    self._closed = True
                self._progress.notify_all()
                if self._closed:
                    return

    def _commit(self, batch: Sequence[_Entry], *, drain: bool) -> dict[int, BaseException]:
        """Apply ``batch`` and due timers; the failures of waited-for ops, by ticket."""
        now = time.time()
        due: list[PendingRun] = []
        while self._timers and (self._timers[0][0] <= now or drain):
            due.append(heapq.heappop(self._timers)[2])
        failures: dict[int, BaseException] = {}
        try:
            tx = self._transaction(batch, due, now, drain, failures=None)
        except Exception as first:
            try:
                tx = self._transaction(batch, due, now, drain, failures=failures)
            except Exception as exc:  # the commit itself failed: every op in it failed
                self._errors.error(f"store: a commit failed: {type(exc).__name__}: {exc}")
                for run in due:  # try these runs again in a second, not in a busy loop
                    heapq.heappush(self._timers, (now + 1.0, next(self._timer_seq), run))
                return {ticket: exc for ticket, _, waited in batch if waited}
            if not all(isinstance(e, _EXPECTED) for e in failures.values()):
                self._errors.error(f"store: a write failed alone: {type(first).__name__}: {first}")
            failures = {t: e for t, e in failures.items() if _waited(batch, t)}
        else:
            self._errors.ok()
        for effect in tx.effects:  # memory follows the commit, in commit order
            try:
                effect()
            except Exception as exc:  # a bug here must not stop the writer
                log.error("store: remembering a commit failed: %s: %s", type(exc).__name__, exc)
        if tx.clear_timers:
            self._timers.clear()
        for when, run in tx.timers:
            heapq.heappush(self._timers, (when, next(self._timer_seq), run))
        return failures

    def _transaction(
        self,
        batch: Sequence[_Entry],
        due: Sequence[PendingRun],
        now: float,
        drain: bool,
        *,
        failures: dict[int, BaseException] | None,
    ) -> Tx:
        """One transaction; with ``failures``, each op in its own savepoint (failures noted)."""
        with self._db_lock:
            db = self._db
            tx = Tx(db, now, drain)
            db.execute("BEGIN")
            try:
                if failures is None:
                    apply_all(tx, [op for _, op, _ in batch])
                else:  # a retry after a failure: each op alone, so it fails alone
                    for ticket, op, _ in batch:
                        _savepoint(db, tx, ticket, op, failures)
                if due:
                    history.finish_runs(db, [(run.id, finish_safely(run, now)) for run in due])
                if tx.touched or batch:
                    history.trim(db, tx.touched, self._keep(batch), self.journal_limit)
                if now - self._last_sweep > _SWEEP_EVERY:
                    history.sweep(db, now - self.retention_seconds)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            if now - self._last_sweep > _SWEEP_EVERY:
                self._last_sweep = now
            return tx

    def _keep(self, batch: Sequence[_Entry]) -> int:
        """Runs to keep per workflow: ``history_limit``, but never fewer than one workflow
        accepted in this very commit (their 202s said they were recorded)."""
        accepted = Counter(op.run.workflow_id for _, op, _ in batch if isinstance(op, AcceptRun))
        return max(self.history_limit, *accepted.values(), 1)


def _savepoint(
    db: sqlite3.Connection, tx: Tx, ticket: int, op: Op, failures: dict[int, BaseException]
) -> None:
    mark = tx.mark()
    db.execute("SAVEPOINT op")
    try:
        op.apply(tx)
    except Exception as exc:
        if not db.in_transaction:  # SQLite rolled the whole transaction back (a full disk)
            raise
        db.execute("ROLLBACK TO op")
        tx.undo(mark)
        failures[ticket] = exc
    db.execute("RELEASE op")


def _waited(batch: Sequence[_Entry], ticket: int) -> bool:
    return any(t == ticket and waited for t, _, waited in batch)
