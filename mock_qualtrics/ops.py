"""The writes the store's writer applies, one typed op per kind of change.

Each op applies itself to a :class:`Tx`, the writer's open transaction. Side effects outside
SQLite (timers for queued runs, clearing them on a wipe, and the state's memory of users and
workflows: an op's ``remember``) are recorded on the ``Tx`` and carried out by the writer only
after the commit succeeded, in commit order, so memory follows what was committed: after any
interleaving of admin calls, memory holds what a restart would load.

An op the database refuses on the requester's account (a taken ``url_token_id``: the UNIQUE
index says so) raises :class:`Refused`; one whose workflow is gone raises :class:`Missing`.
Neither is a store fault: the requester hears it, nothing is logged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from . import history
from .records import EventRow, Outcome, PendingRun, iso
from .workflows import ValidationError

__all__ = [
    "AcceptRun",
    "Batch",
    "DeleteWorkflow",
    "Journal",
    "Missing",
    "Op",
    "Refused",
    "Remember",
    "SaveUser",
    "SaveWorkflow",
    "Tx",
    "Wipe",
    "apply_all",
    "finish_safely",
]


#: What to do in memory once an op is committed (run by the writer, in commit order).
Remember = Callable[[], None]


class Refused(ValidationError):
    """The database refused the op for a reason the requester gave (a 400, not a fault)."""


class Missing(LookupError):
    """The op's workflow no longer exists (deleted by a request that committed first)."""


@dataclass(slots=True)
class Tx:
    """One open transaction: the connection, its clock, and the effects to apply on commit."""

    db: sqlite3.Connection
    now: float
    drain: bool  # finish queued runs now (the store is closing)
    timers: list[tuple[float, PendingRun]] = field(default_factory=list)
    clear_timers: bool = False
    touched: set[str] = field(default_factory=set)
    effects: list[Remember] = field(default_factory=list)

    def mark(self) -> _Mark:
        return _Mark(
            self.clear_timers, frozenset(self.touched), list(self.timers), len(self.effects)
        )

    def undo(self, mark: _Mark) -> None:
        """Forget the effects recorded since ``mark`` (its op was rolled back to a savepoint)."""
        self.clear_timers, self.timers = mark.clear_timers, mark.timers
        self.touched = set(mark.touched)
        del self.effects[mark.effects :]

    def remember(self, effect: Remember | None) -> None:
        """Apply ``effect`` to memory once this transaction is committed."""
        if effect is not None:
            self.effects.append(effect)


@dataclass(frozen=True, slots=True)
class _Mark:
    clear_timers: bool
    touched: frozenset[str]
    timers: list[tuple[float, PendingRun]]
    effects: int


class Op(Protocol):
    """A write: applied inside the writer's transaction, in submission order."""

    def apply(self, tx: Tx) -> None: ...


def finish_safely(run: PendingRun, now: float) -> Outcome:
    """``run.finish(now)``, or a Failed outcome saying why fields could not be extracted."""
    try:
        return run.finish(now)
    except Exception as exc:  # a bug in extraction fails this run, not the whole batch
        stamp = iso(now)
        return Outcome("Failed", stamp, stamp, "{}", f"internal error extracting fields: {exc}")


@dataclass(frozen=True, slots=True)
class Journal:
    """A journal row for a trigger attempt that made no run."""

    row: EventRow

    def apply(self, tx: Tx) -> None:
        history.insert_events(tx.db, (self.row,))


@dataclass(frozen=True, slots=True)
class AcceptRun:
    """An accepted trigger request: its journal row and its run, queued until ``due``."""

    row: EventRow
    run: PendingRun
    due: float

    def apply(self, tx: Tx) -> None:
        AcceptRun.apply_many(tx, (self,))

    @staticmethod
    def apply_many(tx: Tx, accepted: Sequence[AcceptRun]) -> None:
        """Apply ``accepted`` in order as one statement per table (see :func:`apply_all`)."""
        history.insert_events(tx.db, [op.row for op in accepted])
        runs: list[tuple[PendingRun, Outcome | None]] = []
        for op in accepted:
            if op.due <= tx.now or tx.drain:
                runs.append((op.run, finish_safely(op.run, tx.now)))
            else:
                runs.append((op.run, None))
                tx.timers.append((op.due, op.run))
            tx.touched.add(op.run.workflow_id)
        history.insert_runs(tx.db, runs)
        history.count_daily_runs(tx.db, [op.run.received_ts for op in accepted])


def apply_all(tx: Tx, ops: Sequence[Op]) -> None:
    """Apply ``ops`` in order, each consecutive stretch of :class:`AcceptRun` as one
    ``executemany`` per table.

    Why: under load a group commit holds dozens of accepted triggers, and every call into SQLite
    releases and re-takes the GIL, which the server's threads are contending for. Two calls per
    batch instead of three per request took ``qharness mock serve`` from 1.20-1.45k to 1.48-1.61k
    recorded events/s in alternating runs (``benchmarks/mock_throughput.py``'s setup). Order is
    kept: journal rows and runs are numbered in submission order, and a later op (a reset, say)
    still sees every earlier one applied.
    """
    accepted: list[AcceptRun] = []
    for op in ops:
        if isinstance(op, AcceptRun):
            accepted.append(op)
            continue
        if accepted:
            AcceptRun.apply_many(tx, accepted)
            accepted = []
        op.apply(tx)
    if accepted:
        AcceptRun.apply_many(tx, accepted)


@dataclass(frozen=True, slots=True)
class SaveUser:
    """Create or replace a user (the username is the primary key: the last commit wins)."""

    username: str
    token_sha256: bytes
    remember: Remember | None = field(default=None, compare=False)

    def apply(self, tx: Tx) -> None:
        history.save_user(tx.db, self.username, self.token_sha256)
        tx.remember(self.remember)


@dataclass(frozen=True, slots=True)
class SaveWorkflow:
    """Create or replace a workflow; with ``must_exist`` (a PATCH), only replace it."""

    workflow_id: str
    url_token_id: str
    body: str
    must_exist: bool = False
    remember: Remember | None = field(default=None, compare=False)

    def apply(self, tx: Tx) -> None:
        try:
            saved = history.save_workflow(
                tx.db, self.workflow_id, self.url_token_id, self.body, must_exist=self.must_exist
            )
        except sqlite3.IntegrityError:
            holder = history.token_holder(tx.db, self.url_token_id)
            if holder is None:  # not the token's index: a fault, not the requester's doing
                raise
            raise Refused(f"url_token_id: already used by workflow {holder!r}") from None
        if not saved:
            raise Missing(self.workflow_id)
        tx.remember(self.remember)


@dataclass(frozen=True, slots=True)
class DeleteWorkflow:
    """Forget a workflow; its runs stay, shown as "Deleted Workflow"."""

    workflow_id: str
    remember: Remember | None = field(default=None, compare=False)

    def apply(self, tx: Tx) -> None:
        if not history.delete_workflow(tx.db, self.workflow_id):
            raise Missing(self.workflow_id)
        tx.remember(self.remember)


@dataclass(frozen=True, slots=True)
class Batch:
    """Several ops that stand or fall together (a config file's users and workflows)."""

    ops: tuple[Op, ...]

    def apply(self, tx: Tx) -> None:
        for op in self.ops:
            op.apply(tx)


@dataclass(frozen=True, slots=True)
class Wipe:
    """Forget runs, the journal and the daily count (and users and workflows when
    ``everything``); queued runs are forgotten with them, so their timers go too."""

    everything: bool
    remember: Remember | None = field(default=None, compare=False)

    def apply(self, tx: Tx) -> None:
        history.wipe(tx.db, everything=self.everything)
        tx.clear_timers = True
        tx.timers.clear()
        tx.remember(self.remember)
