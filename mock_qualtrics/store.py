"""The SQLite store: run history, the event journal, users and workflows.

Why a single writer thread: SQLite takes one write lock per database, so request threads that each
commit fight over it (measured: ~0.9k req/s on waitress). Here request threads only append to a
queue; one writer drains it and commits everything pending in one transaction (group commit), then
wakes long-polls through a condition. Readers first wait for the writer to catch up
(:meth:`Store.flush`), so the admin API always sees what was answered before it was asked.

Runs are asynchronous like Qualtrics': a run is stored ``queued`` and finished by the same writer
when its delay has passed (with no delay it is stored finished). History is bounded per workflow,
the journal globally, and both lose entries older than the retention period.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Flask

from . import exactjson
from .jsonpath_fields import FieldSpec, extract

__all__ = ["EventRow", "PendingRun", "Store", "init_app", "iso", "redact"]

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY, token_sha256 BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS workflows (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    workflow_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    status TEXT NOT NULL,
    received_at TEXT NOT NULL,
    received_ts REAL NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    fields TEXT NOT NULL,
    error TEXT,
    payload TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_workflow ON runs (workflow_id, seq);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (workflow_id, status, seq);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (received_ts);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    received_ts REAL NOT NULL,
    workflow_id TEXT,
    status_code INTEGER,
    outcome TEXT NOT NULL,
    idempotency_key TEXT
);
CREATE INDEX IF NOT EXISTS events_by_time ON events (received_ts);
"""

_RUN_COLUMNS = (
    "id, workflow_id, request_id, status, received_at, started_at, finished_at, fields, error,"
    " payload"
)
FINISHED = ("Succeeded", "Failed")
_GROUP = 64  # below this many queued writes, the writer waits _GROUP_WAIT for more
_GROUP_WAIT = 0.002


def iso(ts: float) -> str:
    """A UTC timestamp as the run-record contract writes it: ``2024-01-31T12:00:00.123456Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def redact(document: Any) -> Any:
    """``document`` with every scalar leaf replaced by ``"[redacted]"``, without recursion."""
    if not isinstance(document, dict | list):
        return "[redacted]"
    root: Any = {} if isinstance(document, dict) else []
    stack: list[tuple[Any, Any]] = [(document, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, value in items:
            if isinstance(value, dict | list):
                child: Any = {} if isinstance(value, dict) else []
                stack.append((value, child))
            else:
                child = "[redacted]"
            if isinstance(target, dict):
                target[key] = child
            else:
                target.append(child)
    return root


@dataclass(slots=True)
class PendingRun:
    """An accepted event waiting to become a run record."""

    id: str
    workflow_id: str
    request_id: str
    received_ts: float
    body: bytes
    document: Any
    fields: tuple[FieldSpec, ...]
    storage: str  # raw | redacted | none

    def payload_text(self) -> str | None:
        if self.storage == "none":
            return None
        if self.storage == "redacted":
            return orjson.dumps(redact(self.document)).decode()
        return self.body.decode("utf-8")

    def finish(self, now: float) -> tuple[Any, ...]:
        values, error = extract(self.fields, self.document)
        stamp = iso(now)
        return (
            "Failed" if error else "Succeeded",
            stamp,
            stamp,
            exactjson.dumps(values).decode(),
            error,
        )


@dataclass(frozen=True, slots=True)
class EventRow:
    """One journal entry: every trigger attempt, credentials never included."""

    request_id: str
    received_ts: float
    workflow_id: str | None
    status_code: int | None
    outcome: str
    idempotency_key: str | None


Op = tuple[str, Any]


class Store:
    """SQLite behind one writer thread; see the module docstring."""

    def __init__(
        self,
        path: str = ":memory:",
        *,
        history_limit: int = 10_000,
        journal_limit: int = 100_000,
        retention_days: float = 30,
    ) -> None:
        self.path = path
        self.history_limit = history_limit
        self.journal_limit = journal_limit
        self.retention_seconds = retention_days * 86_400
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db_lock = threading.RLock()
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._progress = threading.Condition(self._lock)
        self._queue: list[Op] = []
        self._submitted = 0
        self._applied = 0
        self._commits = 0  # bumped on every commit, timer-only ones included
        self._timers: list[tuple[float, int, PendingRun]] = []
        self._timer_seq = itertools.count()
        self._stopping = False
        self._closed = False
        self._last_sweep = 0.0
        self._fail_stale_queued_runs()
        self._thread = threading.Thread(target=self._writer, name="mock-store-writer", daemon=True)
        self._thread.start()

    # -- writes ----------------------------------------------------------------------------

    def submit(self, kind: str, item: Any, *more: Op) -> None:
        """Queue writes: ``("event", EventRow)``, ``("run", (run, due))`` or ``("call", fn)``."""
        with self._lock:
            if self._closed:
                raise RuntimeError("store is closed")
            self._queue.append((kind, item))
            self._queue.extend(more)
            self._submitted += 1 + len(more)
            if len(self._queue) == 1 + len(more):  # the writer only waits on an empty queue
                self._work.notify()

    def call(self, fn: Callable[[sqlite3.Connection], None]) -> None:
        """Run ``fn`` in the writer's transaction, in queue order, and wait until it is done."""
        self.submit("call", fn)
        self.flush()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every write submitted so far is committed (and visible to readers)."""
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

    def wait_change(self, generation: int, timeout: float) -> None:
        """Block until the writer commits past ``generation``, the store closes, or ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._commits == generation and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._progress.wait(remaining)

    def close(self) -> None:
        """Finish every pending run now, commit everything, stop the writer, close the file."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            self._work.notify()
            self._progress.notify_all()
        self._thread.join()
        with self._db_lock:
            self._db.close()

    # -- the writer ------------------------------------------------------------------------

    def _writer(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._stopping:
                    wait = self._timers[0][0] - time.time() if self._timers else None
                    if wait is not None and wait <= 0:
                        break
                    self._work.wait(wait if wait is None else min(wait, 60.0))
                if 0 < len(self._queue) < _GROUP and not self._stopping:
                    # Group commit: give concurrent requests a moment to join this transaction.
                    self._work.wait(_GROUP_WAIT)
                batch, self._queue = self._queue, []
                target = self._submitted
                stopping = self._stopping
            try:
                self._apply(batch, drain_timers=stopping)
            except Exception:  # keep serving: one bad batch must not stop the history
                log.exception("store: a write batch failed and was rolled back")
            with self._lock:
                self._applied = target
                self._commits += 1
                self._progress.notify_all()
                if stopping and not self._queue:
                    self._closed = True
                    self._progress.notify_all()
                    return

    def _apply(self, batch: Sequence[Op], *, drain_timers: bool) -> None:
        now = time.time()
        touched: set[str] = set()
        with self._db_lock:
            db = self._db
            db.execute("BEGIN")
            try:
                events: list[tuple[Any, ...]] = []
                finished: list[tuple[Any, ...]] = []
                queued: list[tuple[Any, ...]] = []

                def write_rows() -> None:
                    if events:
                        db.executemany(
                            "INSERT INTO events (request_id, received_at, received_ts, workflow_id,"
                            " status_code, outcome, idempotency_key) VALUES (?,?,?,?,?,?,?)",
                            events,
                        )
                    if finished or queued:
                        db.executemany(
                            f"INSERT INTO runs ({_RUN_COLUMNS}, received_ts)"  # noqa: S608 - constant SQL, values bound  # nosec B608
                            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                            finished + queued,
                        )
                    events.clear()
                    finished.clear()
                    queued.clear()

                for kind, item in batch:
                    if kind == "event":
                        ev: EventRow = item
                        events.append(
                            (
                                ev.request_id,
                                iso(ev.received_ts),
                                ev.received_ts,
                                ev.workflow_id,
                                ev.status_code,
                                ev.outcome,
                                ev.idempotency_key,
                            )
                        )
                    elif kind == "run":
                        run, due = item
                        touched.add(run.workflow_id)
                        base = (run.id, run.workflow_id, run.request_id)
                        if due <= now or drain_timers:
                            status, started, ended, values, error = run.finish(now)
                            finished.append(
                                (
                                    *base,
                                    status,
                                    iso(run.received_ts),
                                    started,
                                    ended,
                                    values,
                                    error,
                                    run.payload_text(),
                                    run.received_ts,
                                )
                            )
                        else:
                            queued.append(
                                (
                                    *base,
                                    "queued",
                                    iso(run.received_ts),
                                    None,
                                    None,
                                    "{}",
                                    None,
                                    run.payload_text(),
                                    run.received_ts,
                                )
                            )
                            heapq.heappush(self._timers, (due, next(self._timer_seq), run))
                    else:
                        write_rows()
                        item(db)
                        if getattr(item, "clears_timers", False):
                            self._timers.clear()
                write_rows()
                while self._timers and (self._timers[0][0] <= now or drain_timers):
                    _, _, run = heapq.heappop(self._timers)
                    status, started, ended, values, error = run.finish(now)
                    db.execute(
                        "UPDATE runs SET status=?, started_at=?, finished_at=?, fields=?, error=?"
                        " WHERE id=?",
                        (status, started, ended, values, error, run.id),
                    )
                for workflow_id in touched:
                    db.execute(
                        "DELETE FROM runs WHERE workflow_id=? AND seq < (SELECT seq FROM runs"
                        " WHERE workflow_id=? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                        (workflow_id, workflow_id, self.history_limit - 1),
                    )
                if batch:
                    db.execute(
                        "DELETE FROM events WHERE seq < (SELECT seq FROM events"
                        " ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                        (self.journal_limit - 1,),
                    )
                if now - self._last_sweep > 60:
                    self._last_sweep = now
                    cutoff = now - self.retention_seconds
                    db.execute("DELETE FROM runs WHERE received_ts < ?", (cutoff,))
                    db.execute("DELETE FROM events WHERE received_ts < ?", (cutoff,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _fail_stale_queued_runs(self) -> None:
        stamp = iso(time.time())
        self._db.execute(
            "UPDATE runs SET status='Failed', started_at=?, finished_at=?,"
            " error='the mock stopped before this run started' WHERE status='queued'",
            (stamp, stamp),
        )

    # -- reads -----------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` after every submitted write is visible."""
        self.flush()
        with self._db_lock:
            return self._db.execute(sql, params).fetchall()

    def list_runs(
        self,
        workflow_id: str | None,
        *,
        status: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Run records, newest first."""
        where, params = _run_filter(workflow_id, status)
        rows = self.query(
            f"SELECT {_RUN_COLUMNS} FROM runs {where} ORDER BY seq DESC LIMIT ? OFFSET ?",  # noqa: S608 - constant SQL, values bound  # nosec B608
            (*params, limit, offset),
        )
        return [_run_record(row) for row in rows]

    def count_finished(self, workflow_id: str, status: str | None = None) -> int:
        """How many runs of ``workflow_id`` (with ``status``, if given) have finished."""
        where, params = _run_filter(workflow_id, status)
        rows = self.query(
            f"SELECT COUNT(*) FROM runs {where} AND status IN ('Succeeded', 'Failed')",  # noqa: S608  # nosec B608
            params,
        )
        return int(rows[0][0])

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        rows = self.query(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id=?", (run_id,))  # noqa: S608 - constant SQL, values bound  # nosec B608
        return _run_record(rows[0]) if rows else None

    def run_counts(self) -> dict[str, dict[str, int]]:
        """``{workflow_id: {status: count}}`` for the UI."""
        out: dict[str, dict[str, int]] = {}
        for wf, status, n in self.query(
            "SELECT workflow_id, status, COUNT(*) FROM runs GROUP BY workflow_id, status"
        ):
            out.setdefault(wf, {})[status] = n
        return out

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
        keys = (
            "requestId",
            "received_at",
            "workflow_id",
            "status_code",
            "outcome",
            "idempotency_key",
        )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def export(self, batch: int = 500) -> Iterator[dict[str, Any]]:
        """Every workflow, run and journal entry as ``{"type": ..., ...}`` records, oldest first."""
        for (body,) in self.query("SELECT body FROM workflows ORDER BY id"):
            yield {"type": "workflow", **orjson.loads(body)}
        last = 0
        while True:
            rows = self.query(
                f"SELECT seq, {_RUN_COLUMNS} FROM runs WHERE seq > ? ORDER BY seq LIMIT ?",  # noqa: S608 - constant SQL, values bound  # nosec B608
                (last, batch),
            )
            if not rows:
                break
            last = rows[-1][0]
            for row in rows:
                yield {"type": "run", **_run_record(row[1:])}
        for event in reversed(self.list_events(limit=self.journal_limit)):
            yield {"type": "event", **event}

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

    def runs_since(self, ts: float) -> int:
        return int(self.query("SELECT COUNT(*) FROM runs WHERE received_ts >= ?", (ts,))[0][0])

    def load_users(self) -> list[tuple[str, bytes]]:
        return [
            (str(u), bytes(d)) for u, d in self.query("SELECT username, token_sha256 FROM users")
        ]

    def load_workflows(self) -> list[dict[str, Any]]:
        return [orjson.loads(body) for (body,) in self.query("SELECT body FROM workflows")]


def _run_filter(workflow_id: str | None, status: str | None) -> tuple[str, tuple[Any, ...]]:
    clauses, params = [], []
    if workflow_id is not None:
        clauses.append("workflow_id=?")
        params.append(workflow_id)
    if status is not None:
        clauses.append("status=?")
        params.append(status)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else "WHERE 1=1"
    return where, tuple(params)


def _run_record(row: Sequence[Any]) -> dict[str, Any]:
    run_id, wf, request_id, status, received, started, finished, fields, error, payload = row
    return {
        "id": run_id,
        "workflow_id": wf,
        "requestId": request_id,
        "status": status,
        "received_at": received,
        "started_at": started,
        "finished_at": finished,
        "fields": exactjson.loads(fields.encode()),
        "error": error,
        "payload": exactjson.loads(payload.encode()) if payload is not None else None,
    }


def init_app(app: Flask, store: Store | None = None) -> Store:
    """Open the store named by ``app.config`` (or use ``store``) and register it on ``app``."""
    if store is None:
        store = Store(
            str(app.config["DATABASE"]),
            history_limit=int(app.config["HISTORY_LIMIT"]),
            journal_limit=int(app.config["JOURNAL_LIMIT"]),
            retention_days=float(app.config["RETENTION_DAYS"]),
        )
    app.extensions["mock_qualtrics.store"] = store
    return store


def get_store(app: Flask) -> Store:
    store: Store = app.extensions["mock_qualtrics.store"]
    return store
