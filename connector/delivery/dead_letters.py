"""The outbox seen from outside a run: counts, dead letters, and moving or dropping them.

``qharness outbox`` needs to read and repair the state directory that ``send`` writes, without a
sender running: it takes the same OS file lock (``qharness.lock``), so it waits for no one and
no one writes behind its back, then works on every ``outbox-*.sqlite`` file (one per destination)
in one transaction each. Retrying a dead letter makes it pending again (the next ``send`` sends
it first, with its original ``Idempotency-Key``); purging deletes it with its payload, so a later
``send`` of the same profile would send it again. The same holds for purging pending events (a
run against a mistyped URL leaves them forever otherwise) and delivered ones (the ids kept to
skip a re-sent input). Each file is named by its destination (``outbox.DestinationLabel``), which
is also how ``--destination NAME`` picks files.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import filelock

from ..errors import StateError, UsageError
from .outbox import DestinationLabel
from .why import status_reason

__all__ = ["DeadLetterRow", "OutboxCounts", "StateDir"]

_LOCK_NAME: Final = "qharness.lock"  # the same lock as ``outbox.Outbox``


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    """One outbox file's events by state, and its dead letters by HTTP status."""

    path: Path
    pending: int
    delivered: int
    dead: int
    dead_by_reason: tuple[tuple[str, int], ...]
    #: ``None`` for an outbox written before destinations were named in it.
    destination: DestinationLabel | None = None


@dataclass(frozen=True, slots=True)
class DeadLetterRow:
    """A dead letter as ``qharness outbox dead`` shows it (no payload: it holds personal data)."""

    path: Path
    event_id: str
    reason: str
    status_code: int | None
    dead_at: float


class StateDir:
    """A ``send`` state directory, locked for the life of the object (a context manager)."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self._clock = clock
        if not self.path.is_dir():
            raise StateError(f"{str(self.path)!r}: no such state directory (see --state)")
        self._lock = filelock.FileLock(self.path / _LOCK_NAME, timeout=0, thread_local=False)
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise StateError(
                f"{str(self.path)!r} is locked by a running qharness send; wait for it to end"
            ) from None
        except OSError as exc:
            raise StateError(f"{str(self.path)!r}: cannot lock: {exc.strerror or exc}") from None

    def __enter__(self) -> StateDir:
        return self

    def __exit__(self, *_: object) -> None:
        self._lock.release()

    @property
    def files(self) -> list[Path]:
        return sorted(self.path.glob("outbox-*.sqlite"))

    def files_of(self, destination: str | None) -> list[Path]:
        """The outbox files of the destination named ``destination`` (all when ``None``); a name
        no file carries is a ``UsageError`` that lists the names there are."""
        if destination is None:
            return self.files
        labels = {}
        for path in self.files:
            with _open(path) as db:
                labels[path] = DestinationLabel.read(db)
        chosen = [
            p for p, label in labels.items() if label is not None and label.name == destination
        ]
        if not chosen:
            names = sorted({label.name for label in labels.values() if label is not None})
            known = ", ".join(repr(name) for name in names) if names else "none is named"
            raise UsageError(
                f"--destination {destination!r}: no outbox in {str(self.path)!r} is for it "
                f"(destinations there: {known}; see `qharness outbox status`)"
            )
        return chosen

    def counts(self) -> list[OutboxCounts]:
        result = []
        for path in self.files:
            with _open(path) as db:
                states = dict(db.execute("SELECT state, COUNT(*) FROM events GROUP BY state"))
                reasons = db.execute(
                    "SELECT status_code, COUNT(*) FROM dead_letters GROUP BY status_code"
                    " ORDER BY 2 DESC, 1"
                ).fetchall()
                label = DestinationLabel.read(db)
            result.append(
                OutboxCounts(
                    path,
                    states.get("pending", 0),
                    states.get("delivered", 0),
                    states.get("dead", 0),
                    tuple(
                        (status_reason(code) if code is not None else "no status", int(count))
                        for code, count in reasons
                    ),
                    label,
                )
            )
        return result

    def dead_letters(self, reason: str | None = None) -> list[DeadLetterRow]:
        rows = []
        for path in self.files:
            with _open(path) as db:
                for event_id, text, code, dead_at in db.execute(
                    "SELECT d.event_id, d.reason, d.status_code, d.dead_at FROM dead_letters d"
                    " JOIN events e USING (event_id) WHERE e.state = 'dead' ORDER BY e.seq"
                ):
                    if _matches(reason, text, code):
                        rows.append(DeadLetterRow(path, event_id, text, code, dead_at))
        return rows

    def retry(self, reason: str | None = None) -> int:
        """Move matching dead letters back to pending; how many were moved."""
        return self._apply(
            reason,
            "UPDATE events SET state = 'pending', updated_at = strftime('%s', 'now')"
            " WHERE event_id = ? AND state = 'dead'",
        )

    def purge(self, reason: str | None = None) -> int:
        """Delete matching dead letters and their payloads; how many were deleted."""
        return self._apply(reason, "DELETE FROM events WHERE event_id = ? AND state = 'dead'")

    def count(
        self, state: str, *, destination: str | None = None, older_than: float | None = None
    ) -> int:
        """How many events in ``state`` (``pending`` or ``delivered``) ``purge_events`` would drop."""
        done = 0
        for path in self.files_of(destination):
            with _open(path) as db:
                done += db.execute(*self._where(state, older_than, "SELECT COUNT(*)")).fetchone()[0]
        return int(done)

    def purge_events(
        self, state: str, *, destination: str | None = None, older_than: float | None = None
    ) -> int:
        """Delete events in ``state`` (``pending`` or ``delivered``) last changed over
        ``older_than`` seconds ago (any age when ``None``), of one destination or all; how many."""
        done = 0
        for path in self.files_of(destination):
            with _open(path) as db:
                db.execute("BEGIN IMMEDIATE")
                done += db.execute(*self._where(state, older_than, "DELETE")).rowcount
                db.execute("COMMIT")
        return done

    def _where(
        self, state: str, older_than: float | None, verb: str
    ) -> tuple[str, tuple[object, ...]]:
        if state not in ("pending", "delivered"):
            raise ValueError(f"state must be 'pending' or 'delivered', got {state!r}")
        cutoff = float("inf") if older_than is None else self._clock() - older_than
        return f"{verb} FROM events WHERE state = ? AND updated_at < ?", (state, cutoff)

    def _apply(self, reason: str | None, statement: str) -> int:
        done = 0
        for path in self.files:
            ids = [row.event_id for row in self.dead_letters(reason) if row.path == path]
            if not ids:
                continue
            with _open(path) as db:
                db.execute("BEGIN IMMEDIATE")
                db.executemany("DELETE FROM dead_letters WHERE event_id = ?", [(i,) for i in ids])
                db.executemany(statement, [(i,) for i in ids])
                db.execute("COMMIT")
            done += len(ids)
        return done


def _matches(wanted: str | None, reason: str, status_code: int | None) -> bool:
    """``--reason``: a status code (``400``) or the start of the reason (``http 400``)."""
    if wanted is None:
        return True
    if wanted.isdigit():
        return status_code == int(wanted)
    return reason.lower().startswith(wanted.lower())


@contextmanager
def _open(path: Path) -> Iterator[sqlite3.Connection]:
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    except sqlite3.Error as exc:
        raise StateError(f"{str(path)!r}: cannot open the outbox: {exc}") from None
    try:
        db.execute("PRAGMA synchronous=FULL")
        yield db
    except sqlite3.Error as exc:
        raise StateError(f"{str(path)!r}: {exc}") from None
    finally:
        db.close()
