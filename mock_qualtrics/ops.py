"""The writes the store's writer applies, one typed op per kind of change.

Each op applies itself to a :class:`Tx`, the writer's open transaction. Side effects outside
SQLite (timers for queued runs, clearing them on a wipe) are recorded on the ``Tx`` and carried out
by the writer only after the commit succeeded, so the writer's memory follows what was committed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from . import history
from .records import EventRow, Outcome, PendingRun, iso

__all__ = [
    "AcceptRun",
    "Batch",
    "DeleteWorkflow",
    "Journal",
    "Op",
    "SaveUser",
    "SaveWorkflow",
    "Tx",
    "Wipe",
    "apply_all",
    "finish_safely",
]


@dataclass(slots=True)
class Tx:
    """One open transaction: the connection, its clock, and the effects to apply on commit."""

    db: sqlite3.Connection
    now: float
    drain: bool  # finish queued runs now (the store is closing)
    timers: list[tuple[float, PendingRun]] = field(default_factory=list)
    clear_timers: bool = False
    touched: set[str] = field(default_factory=set)

    def mark(self) -> tuple[int, bool, frozenset[str], list[tuple[float, PendingRun]]]:
        return len(self.timers), self.clear_timers, frozenset(self.touched), list(self.timers)

    def undo(self, mark: tuple[int, bool, frozenset[str], list[tuple[float, PendingRun]]]) -> None:
        """Forget the effects recorded since ``mark`` (its op was rolled back to a savepoint)."""
        _, self.clear_timers, touched, self.timers = mark
        self.touched = set(touched)


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
    username: str
    token_sha256: bytes

    def apply(self, tx: Tx) -> None:
        history.save_user(tx.db, self.username, self.token_sha256)


@dataclass(frozen=True, slots=True)
class SaveWorkflow:
    workflow_id: str
    body: str

    def apply(self, tx: Tx) -> None:
        history.save_workflow(tx.db, self.workflow_id, self.body)


@dataclass(frozen=True, slots=True)
class DeleteWorkflow:
    """Forget a workflow; its runs stay, shown as "Deleted Workflow"."""

    workflow_id: str
    name: str

    def apply(self, tx: Tx) -> None:
        history.delete_workflow(tx.db, self.workflow_id, self.name)


@dataclass(frozen=True, slots=True)
class Batch:
    """Several ops that stand or fall together (a config file's users and workflows)."""

    ops: tuple[Op, ...]

    def apply(self, tx: Tx) -> None:
        for op in self.ops:
            op.apply(tx)


@dataclass(frozen=True, slots=True)
class Wipe:
    """Forget runs and the journal (and users and workflows when ``everything``); queued runs
    are forgotten with them, so their timers go too."""

    everything: bool

    def apply(self, tx: Tx) -> None:
        history.wipe(tx.db, everything=self.everything)
        tx.clear_timers = True
        tx.timers.clear()
