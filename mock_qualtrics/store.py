"""The store: SQLite run history, journal, users and workflows, behind one writer thread.

Writes go through :class:`~mock_qualtrics.writer.GroupWriter` (typed ops from
:mod:`mock_qualtrics.ops`, group commits); reads first wait for the writer to catch up
(:meth:`Store.flush`), so the admin API always sees what was answered before it was asked. The SQL
lives in :mod:`mock_qualtrics.history`. A file database runs in WAL mode with
``synchronous=NORMAL``: a committed run survives the mock being killed (``kill -9``), not a power
loss or an OS crash, which is enough for a test double.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import orjson

from . import history
from .config import Settings
from .ops import Op
from .records import EVENT_KEYS, FINISHED
from .writer import GroupWriter, StoreError

__all__ = ["Store", "StoreError", "open_store"]

_T = TypeVar("_T")


class Store:
    """SQLite behind one writer thread; see the module docstring."""

    def __init__(
        self, path: str, *, history_limit: int, journal_limit: int, retention_days: float
    ) -> None:
        self.path = path
        self.history_limit = history_limit
        self.journal_limit = journal_limit
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db_lock = threading.RLock()
        try:
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            history.open_schema(self._db)
            history.fail_stale_queued_runs(self._db, time.time())
            self._closed = False
            self._writer = GroupWriter(
                self._db,
                self._db_lock,
                history_limit=history_limit,
                journal_limit=journal_limit,
                retention_seconds=retention_days * 86_400,
            )
        except BaseException:  # closed on every path: an unclosed connection warns on 3.13
            self._db.close()
            raise

    # -- writes (see GroupWriter) ----------------------------------------------------------

    def submit(self, op: Op, *, wait: bool = False) -> int:
        return self._writer.submit(op, wait=wait)

    def wait(self, ticket: int, timeout: float = 30.0) -> None:
        self._writer.wait(ticket, timeout)

    def run(self, op: Op) -> None:
        self._writer.run(op)

    def flush(self, timeout: float = 30.0) -> bool:
        return self._writer.flush(timeout)

    @property
    def generation(self) -> int:
        return self._writer.generation

    def wait_change(self, generation: int, timeout: float) -> bool:
        return self._writer.wait_change(generation, timeout)

    def wake(self) -> None:
        """End every long-poll now (shutdown)."""
        self._writer.wake()

    def close(self) -> None:
        """Finish every queued run now, commit everything, stop the writer, close the file."""
        if self._closed:
            return
        self._writer.close()
        with self._db_lock:
            self._closed = True
            self._db.close()

    # -- reads -----------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` after every submitted write is visible."""
        self.flush()
        with self._db_lock:
            if self._closed:
                raise StoreError("the mock's store is closed")
            return self._db.execute(sql, params).fetchall()

    def _read(self, read: Callable[[sqlite3.Connection], _T]) -> _T:
        """``read(connection)`` after every submitted write is visible."""
        self.flush()
        with self._db_lock:
            if self._closed:
                raise StoreError("the mock's store is closed")
            return read(self._db)

    def list_runs(
        self,
        workflow_id: str | None,
        *,
        status: str | None = None,
        limit: int = 1000,
        offset: int = 0,
        before: int | None = None,
        after: int | None = None,
    ) -> list[dict[str, Any]]:
        """Run records, newest first; see :meth:`run_page`."""
        page = self.run_page(
            workflow_id, status=status, limit=limit, offset=offset, before=before, after=after
        )
        return [record for _, record in page]

    def run_page(
        self,
        workflow_id: str | None,
        *,
        status: str | None = None,
        limit: int = 1000,
        offset: int = 0,
        before: int | None = None,
        after: int | None = None,
    ) -> list[tuple[int, dict[str, Any]]]:
        """``(cursor, record)`` of runs newest first: those older than the cursor ``before``, or
        the ``limit`` oldest newer than ``after`` (still listed newest first), then ``offset``.

        Why cursors: a page found by its position (``OFFSET``) walks every row before it, so
        page 5,000 of a million runs cost seconds; a cursor is a run's ``seq``, and the page
        after it is a range read off an index, as cheap at the millionth run as at the first.
        """
        where, params = history.run_filter(workflow_id, status)
        order = "DESC"
        if before is not None:
            where, params = f"{where} AND seq < ?", (*params, before)
        if after is not None:
            where, params = f"{where} AND seq > ?", (*params, after)
            order = "ASC"
        rows = self.query(
            f"SELECT seq, {history.RUN_COLUMNS} FROM runs {where} ORDER BY seq {order}"  # noqa: S608 - constant SQL, values bound  # nosec B608
            " LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        if order == "ASC":
            rows.reverse()
        return [(int(row[0]), history.run_record(row[1:])) for row in rows]

    def run_cursor(self, run_id: str) -> int | None:
        """The cursor (``seq``) of the run ``run_id``, or None when no such run is kept."""
        rows = self.query("SELECT seq FROM runs WHERE id=?", (run_id,))
        return int(rows[0][0]) if rows else None

    def count_finished(self, workflow_id: str, status: str | None = None) -> int:
        """How many runs of ``workflow_id`` (with ``status``, if given) have finished."""
        wanted = [s for s in FINISHED if status is None or s == status]
        if not wanted:
            return 0
        return self._read(lambda db: history.run_count(db, workflow_id, wanted))

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        rows = self.query(f"SELECT {history.RUN_COLUMNS} FROM runs WHERE id=?", (run_id,))  # noqa: S608 - constant SQL, values bound  # nosec B608
        return history.run_record(rows[0]) if rows else None

    def run_counts(self) -> dict[str, dict[str, int]]:
        """``{workflow_id: {status: count}}`` for the UI, from the counters kept on each write."""
        return self._read(history.run_counts)

    def list_events(
        self, *, workflow_id: str | None = None, limit: int = 1000, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Journal entries, newest first."""
        where = "WHERE workflow_id=?" if workflow_id else ""
        params: tuple[Any, ...] = (workflow_id,) if workflow_id else ()
        rows = self.query(
            "SELECT request_id, received_at, workflow_id, status_code, outcome, idempotency_key"  # noqa: S608 - constant SQL, values bound  # nosec B608
            f" FROM events {where} ORDER BY seq DESC LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [dict(zip(EVENT_KEYS, row, strict=True)) for row in rows]

    def export(self, batch: int = 500) -> Iterator[dict[str, Any]]:
        """Every workflow, run and journal entry as ``{"type": ..., ...}`` records, oldest first."""
        for (body,) in self.query("SELECT body FROM workflows ORDER BY id"):
            yield {"type": "workflow", **orjson.loads(body)}
        last = 0
        while True:
            rows = self.query(
                f"SELECT seq, {history.RUN_COLUMNS} FROM runs WHERE seq > ? ORDER BY seq LIMIT ?",  # noqa: S608 - constant SQL, values bound  # nosec B608
                (last, batch),
            )
            if not rows:
                break
            last = rows[-1][0]
            for row in rows:
                yield {"type": "run", **history.run_record(row[1:])}
        last = 0
        while True:
            rows = self.query(
                "SELECT seq, request_id, received_at, workflow_id, status_code, outcome,"
                " idempotency_key FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                (last, batch),
            )
            if not rows:
                break
            last = rows[-1][0]
            for row in rows:
                yield {"type": "event", **dict(zip(EVENT_KEYS, row[1:], strict=True))}

    def accepted_keys_since(self, ts: float) -> list[tuple[str, str, str, float]]:
        """``(workflow_id, idempotency_key, requestId, received_ts)`` of accepted requests."""
        return [
            (str(a), str(b), str(c), float(d))
            for a, b, c, d in self.query(
                "SELECT workflow_id, idempotency_key, request_id, received_ts FROM events"
                " WHERE outcome='accepted' AND idempotency_key IS NOT NULL AND received_ts >= ?"
                " ORDER BY seq",
                (ts,),
            )
        ]

    def daily_runs(self, day: int) -> int:
        """Runs accepted on UTC day ``day`` (days since the epoch), kept past history trims."""
        self.flush()
        with self._db_lock:
            return history.daily_runs(self._db, day)

    def load_users(self) -> list[tuple[str, bytes]]:
        return [
            (str(u), bytes(d)) for u, d in self.query("SELECT username, token_sha256 FROM users")
        ]

    def load_workflows(self) -> list[dict[str, Any]]:
        return [orjson.loads(body) for (body,) in self.query("SELECT body FROM workflows")]

    def load_deleted_workflows(self) -> dict[str, str]:
        """``{id: name}`` of deleted workflows whose runs are kept."""
        return {str(i): str(n) for i, n in self.query("SELECT id, name FROM deleted_workflows")}


def open_store(settings: Settings) -> Store:
    """The store a mock's settings name (``database`` and the history bounds)."""
    return Store(
        settings.database,
        history_limit=settings.history_limit,
        journal_limit=settings.journal_limit,
        retention_days=float(settings.retention_days),
    )
