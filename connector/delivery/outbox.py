"""The durable outbox: every event is on disk before it is sent, and stays until a 2xx.

One SQLite file per destination inside the state directory, in WAL mode with
``synchronous=FULL``: a commit has reached the disk when it returns, so ``kill -9`` at any moment
loses nothing. An event goes ``pending`` -> ``delivered`` (after a 2xx; its body is then dropped,
only the id is kept for dedup) or ``pending`` -> ``dead`` (a permanent failure, with its reason
in ``dead_letters``). Delivery is therefore at-least-once. Before an event's
request leaves, the event is marked ``in_doubt`` (one transaction per batch of dispatches); a
definite answer clears the mark. An event still in doubt on the next attempt (it was in flight at
a kill, or its response was lost) may already have started a workflow run: Qualtrics documents no
deduplication, so its resend can start a second one, and the sender counts each such resend.
Writes are grouped: a batch of new events, of dispatches, and of outcomes, each commit in one
transaction.

A store error after the outbox opened (``database or disk is full``, an I/O error) is an
``OutboxError`` naming the state directory and SQLite's cause: the transaction is rolled back, so
what was committed before stays, and nothing is marked sent that was not.

Profile data is personal data: the state directory is made ``0700`` and every file in it ``0600``
(outbox, its WAL and shared-memory files, the lock), when created and again when reused.

Delivered events are kept, as ids only, for a window (``keep_delivered``, 30 days by default,
like Qualtrics' run retention) so that a re-sent input is skipped; ``prune_delivered`` forgets
older ones, so an outbox fed day and night stays bounded (SQLite reuses the freed pages). The
file's ``meta`` table names its destination (name, host, the URL with its ``urlTokenId``
redacted), so ``qharness outbox`` can say which destination a file belongs to.

The state directory is guarded by an OS file lock (``filelock``, ``flock`` on POSIX), which the
kernel releases when the holder dies, so a killed sender never leaves a stale lock. The outbox
never stores the token or the destination URL; the file name carries a salted hash of it, so
that one state directory can serve several destinations without mixing their events.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Final

import filelock

from ..errors import OutboxError, StateError

__all__ = [
    "DAY",
    "PRIVATE_DIR",
    "PRIVATE_FILE",
    "DeadLetter",
    "DestinationLabel",
    "NewEvent",
    "Outbox",
    "StoredEvent",
    "destination_key",
]

#: The state directory and its files: the owner's alone (they hold profile data).
PRIVATE_DIR: Final = 0o700
PRIVATE_FILE: Final = 0o600
DAY: Final = 86_400.0

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT NOT NULL UNIQUE,
    identity   TEXT NOT NULL,
    body       BLOB,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    in_doubt   INTEGER NOT NULL DEFAULT 0,
    resends    INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_pending ON events (seq) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS events_delivered ON events (updated_at) WHERE state = 'delivered';
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    event_id    TEXT PRIMARY KEY REFERENCES events (event_id),
    reason      TEXT NOT NULL,
    status_code INTEGER,
    dead_at     REAL NOT NULL
);
"""


#: Columns later versions added, for outboxes written before them.
_ADDED_COLUMNS: Final = (
    ("in_doubt", "ALTER TABLE events ADD COLUMN in_doubt INTEGER NOT NULL DEFAULT 0"),
    ("resends", "ALTER TABLE events ADD COLUMN resends INTEGER NOT NULL DEFAULT 0"),
)


def destination_key(url: str, username: str) -> str:
    """A short, salted fingerprint of a destination (never reversible to its ``urlTokenId``)."""
    digest = hashlib.sha256(b"qharness-outbox\0" + url.encode() + b"\0" + username.encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class DestinationLabel:
    """Which destination an outbox file serves, as a person can read it: the activation's
    destination name, the host, and the URL with its ``urlTokenId`` already redacted."""

    name: str
    host: str
    url: str

    @classmethod
    def read(cls, db: sqlite3.Connection) -> DestinationLabel | None:
        """The label stored in ``db`` (``None``: an outbox written before labels were kept)."""
        try:
            values = dict(db.execute("SELECT key, value FROM meta"))
        except sqlite3.OperationalError:  # no meta table yet
            return None
        if "name" not in values:
            return None
        return cls(values["name"], values.get("host", "?"), values.get("url", "?"))


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A rendered event about to be written: its id (the Idempotency-Key), identity and body."""

    event_id: str
    identity: str
    body: bytes


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event in the outbox; ``seq`` orders the events of one identity.

    ``in_doubt``: an earlier request for it got no answer, so a run may exist already.
    """

    seq: int
    event_id: str
    identity: str
    body: bytes
    in_doubt: bool = False

    def __repr__(self) -> str:  # bodies carry personal data: keep them out of reprs
        return f"StoredEvent(seq={self.seq}, event_id={self.event_id!r}, {len(self.body)} bytes" + (
            ", in doubt)" if self.in_doubt else ")"
        )


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An event that can never be delivered as it is, and why."""

    event_id: str
    reason: str
    status_code: int | None
    body: bytes


class Outbox:
    """The outbox of one destination in ``state_dir``; use as a context manager."""

    def __init__(
        self,
        state_dir: Path,
        destination: str,
        *,
        label: DestinationLabel | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.state_dir = Path(state_dir)
        self._clock = clock
        try:
            self.state_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
            os.chmod(self.state_dir, PRIVATE_DIR)  # also when reused: it may predate this rule
        except OSError as exc:
            raise StateError(
                f"{str(self.state_dir)!r}: cannot create the state directory: {exc.strerror or exc}"
            ) from None
        self._lock = filelock.FileLock(
            self.state_dir / "qharness.lock", timeout=0, mode=PRIVATE_FILE, thread_local=False
        )
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise StateError(
                f"{str(self.state_dir)!r} is locked by another qharness sender; "
                "wait for it or use another --state"
            ) from None
        except OSError as exc:
            raise StateError(
                f"{str(self.state_dir)!r}: cannot lock the state directory: {exc.strerror or exc}"
            ) from None
        self.path = self.state_dir / f"outbox-{destination}.sqlite"
        try:
            # SQLite gives the WAL and shared-memory files the database file's mode.
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=5.0)
        except (sqlite3.Error, OSError) as exc:
            self._lock.release()
            raise StateError(f"{str(self.path)!r}: cannot open the outbox: {exc}") from None
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(events)")}
            for column, statement in _ADDED_COLUMNS:  # an outbox from before doubt tracking
                if column not in columns:
                    self._db.execute(statement)
            if label is not None:
                self._db.executemany(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    [("name", label.name), ("host", label.host), ("url", label.url)],
                )
            _make_private(self.state_dir)
        except (sqlite3.Error, OSError) as exc:
            self._db.close()  # closed on every path: a connection left to the GC warns (3.13)
            self._lock.release()
            raise StateError(f"{str(self.path)!r}: cannot open the outbox: {exc}") from None

    def __enter__(self) -> Outbox:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Outbox({str(self.path)!r})"

    def close(self) -> None:
        """Close the database and release the state directory's lock (idempotent)."""
        if self._lock.is_locked:
            try:
                self._db.close()
            finally:
                self._lock.release()

    def add(self, events: Sequence[NewEvent]) -> tuple[list[StoredEvent], list[NewEvent]]:
        """Write ``events`` in one transaction: ``(stored, duplicates)``.

        A duplicate is an event whose id the outbox already holds in any state (or that appears
        twice in ``events``): it is not stored again, so it is never sent twice.
        """
        stored: list[StoredEvent] = []
        duplicates: list[NewEvent] = []
        if not events:
            return stored, duplicates
        now = self._clock()
        with self._transaction():
            for event in events:
                cursor = self._db.execute(
                    "INSERT OR IGNORE INTO events"
                    " (event_id, identity, body, state, created_at, updated_at)"
                    " VALUES (?, ?, ?, 'pending', ?, ?)",
                    (event.event_id, event.identity, event.body, now, now),
                )
                if cursor.rowcount == 1 and cursor.lastrowid is not None:
                    stored.append(
                        StoredEvent(cursor.lastrowid, event.event_id, event.identity, event.body)
                    )
                else:
                    duplicates.append(event)
        return stored, duplicates

    def record(
        self,
        delivered: Iterable[str] = (),
        dead: Iterable[tuple[str, str, int | None]] = (),
        answered: Iterable[str] = (),
    ) -> None:
        """In one transaction: mark ``delivered`` ids delivered, move ``dead`` ones
        (``(event_id, reason, status_code)``) to the dead letters, and clear the doubt of
        ``answered`` ones (a definite non-2xx answer: no run was started)."""
        delivered = list(delivered)
        dead = list(dead)
        answered = list(answered)
        if not delivered and not dead and not answered:
            return
        now = self._clock()
        with self._transaction():
            self._db.executemany(
                "UPDATE events SET state = 'delivered', body = NULL, updated_at = ?"
                " WHERE event_id = ? AND state = 'pending'",
                [(now, event_id) for event_id in delivered],
            )
            for event_id, reason, status_code in dead:
                self._db.execute(
                    "UPDATE events SET state = 'dead', updated_at = ?"
                    " WHERE event_id = ? AND state = 'pending'",
                    (now, event_id),
                )
                self._db.execute(
                    "INSERT OR REPLACE INTO dead_letters (event_id, reason, status_code, dead_at)"
                    " VALUES (?, ?, ?, ?)",
                    (event_id, reason, status_code, now),
                )
            self._db.executemany(
                "UPDATE events SET in_doubt = 0 WHERE event_id = ?",
                [(event_id,) for event_id in answered],
            )

    def mark_in_doubt(self, event_ids: Sequence[str], resent: Sequence[str] = ()) -> None:
        """Before their requests leave: until an answer comes, a run may or may not exist.

        ``resent`` are those already in doubt (an earlier request got no answer): their resend
        is counted on disk, so the count survives a kill like the doubt itself.
        """
        if not event_ids and not resent:
            return
        with self._transaction():
            self._db.executemany(
                "UPDATE events SET in_doubt = 1 WHERE event_id = ?",
                [(event_id,) for event_id in event_ids],
            )
            self._db.executemany(
                "UPDATE events SET resends = resends + 1 WHERE event_id = ?",
                [(event_id,) for event_id in resent],
            )

    def prune_delivered(self, keep: float) -> int:
        """Forget delivered events older than ``keep`` seconds (their ids only: the bodies went
        at delivery); how many. A later input with such an id is new again and is sent."""
        with self._transaction():
            cursor = self._db.execute(
                "DELETE FROM events WHERE state = 'delivered' AND updated_at < ?",
                (self._clock() - keep,),
            )
        return cursor.rowcount

    def resends(self) -> dict[str, int]:
        """event id -> how often it was resent after an unknown outcome, over every run."""
        rows = self._db.execute("SELECT event_id, resends FROM events WHERE resends > 0")
        return {event_id: count for event_id, count in rows}

    def pending(self) -> list[StoredEvent]:
        """Every pending event, oldest first (the order they must be sent in, per identity)."""
        with _store_errors(self.state_dir):
            rows = self._db.execute(
                "SELECT seq, event_id, identity, body, in_doubt FROM events"
                " WHERE state = 'pending' ORDER BY seq"
            ).fetchall()
        return [
            StoredEvent(seq, event_id, identity, bytes(body), bool(in_doubt))
            for seq, event_id, identity, body, in_doubt in rows
        ]

    def dead_letters(self) -> list[DeadLetter]:
        """Every dead-lettered event with its reason, oldest first."""
        rows = self._db.execute(
            "SELECT d.event_id, d.reason, d.status_code, e.body FROM dead_letters d"
            " JOIN events e USING (event_id) ORDER BY e.seq"
        ).fetchall()
        return [
            DeadLetter(event_id, reason, code, bytes(body or b""))
            for event_id, reason, code, body in rows
        ]

    def counts(self) -> dict[str, int]:
        """How many events are in each state (``pending``, ``delivered``, ``dead``)."""
        counts = {"pending": 0, "delivered": 0, "dead": 0}
        with _store_errors(self.state_dir):
            rows = self._db.execute("SELECT state, COUNT(*) FROM events GROUP BY state")
            for state, count in rows.fetchall():
                counts[state] = count
        return counts

    def state_of(self, event_id: str) -> str | None:
        """The state of one event, or ``None`` if the outbox never saw it."""
        with _store_errors(self.state_dir):
            row = self._db.execute(
                "SELECT state FROM events WHERE event_id = ?", (event_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self.state_dir)


def _make_private(directory: Path) -> None:
    """Owner-only access to every file the outbox keeps (they may predate this rule)."""
    for path in directory.iterdir():
        if path.is_file() and (path.name.startswith("outbox-") or path.name == "qharness.lock"):
            os.chmod(path, PRIVATE_FILE)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK`` on error): one fsync per batch.

    A store error inside it, or at its commit, leaves as an ``OutboxError`` naming ``where``."""

    def __init__(self, db: sqlite3.Connection, where: Path) -> None:
        self._db = db
        self._where = where

    def __enter__(self) -> None:
        with _store_errors(self._where):
            self._db.execute("BEGIN IMMEDIATE")

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error as error:
                exc = error
        if self._db.in_transaction:
            # SQLite may have rolled back itself (a full disk can do that); the cause is below.
            with suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise _outbox_error(self._where, exc) from None


@contextmanager
def _store_errors(where: Path) -> Iterator[None]:
    """SQLite's errors as one ``OutboxError`` naming the state directory and the cause."""
    try:
        yield
    except sqlite3.Error as exc:
        raise _outbox_error(where, exc) from None


def _outbox_error(where: Path, exc: sqlite3.Error) -> OutboxError:
    return OutboxError(
        f"{str(where)!r}: the outbox failed: {exc}; sending stopped, every event already "
        "stored is kept: free space (or fix the state directory) and run send again"
    )
