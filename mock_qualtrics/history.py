"""The history's SQL: one function per statement the store needs, each taking the connection.

Tables: ``runs`` (bounded per workflow, with ``duplicate_of``), ``events`` (the journal, bounded
globally), ``users`` (token digests only), ``workflows`` and ``deleted_workflows`` (a deleted
workflow's runs are kept, as Qualtrics keeps them and shows "Deleted Workflow"). Writes run inside
the writer's transaction; reads run after the writer has caught up.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from . import exactjson
from .records import EventRow, Outcome, PendingRun, iso

__all__ = [
    "RUN_COLUMNS",
    "delete_workflow",
    "fail_stale_queued_runs",
    "finish_runs",
    "insert_events",
    "insert_runs",
    "open_schema",
    "run_filter",
    "run_record",
    "save_user",
    "save_workflow",
    "sweep",
    "trim",
    "wipe",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY, token_sha256 BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS workflows (id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deleted_workflows (id TEXT PRIMARY KEY, name TEXT NOT NULL);
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
    payload TEXT,
    duplicate_of TEXT,
    idempotency_key TEXT,
    body_sha256 BLOB
);
CREATE INDEX IF NOT EXISTS runs_by_workflow ON runs (workflow_id, seq);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (workflow_id, status, seq);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (received_ts);
CREATE INDEX IF NOT EXISTS runs_by_key ON runs (workflow_id, idempotency_key, seq)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS runs_by_body ON runs (workflow_id, body_sha256, seq);
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

#: Columns added after the first release, for files written by an older mock.
_ADDED_RUN_COLUMNS = {"duplicate_of": "TEXT", "idempotency_key": "TEXT", "body_sha256": "BLOB"}

RUN_COLUMNS = (
    "id, workflow_id, request_id, status, received_at, started_at, finished_at, fields, error,"
    " payload, duplicate_of"
)


def open_schema(db: sqlite3.Connection) -> None:
    """Create the tables, or add to an older file the columns a newer mock records."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    if columns:
        for name, kind in _ADDED_RUN_COLUMNS.items():
            if name not in columns:
                db.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
    db.executescript(_SCHEMA)


def fail_stale_queued_runs(db: sqlite3.Connection, now: float) -> None:
    """Runs left ``queued`` by a mock that was killed can never start: fail them, saying why."""
    stamp = iso(now)
    db.execute(
        "UPDATE runs SET status='Failed', started_at=?, finished_at=?,"
        " error='the mock stopped before this run started' WHERE status='queued'",
        (stamp, stamp),
    )


def insert_events(db: sqlite3.Connection, rows: Iterable[EventRow]) -> None:
    db.executemany(
        "INSERT INTO events (request_id, received_at, received_ts, workflow_id, status_code,"
        " outcome, idempotency_key) VALUES (?,?,?,?,?,?,?)",
        [
            (
                ev.request_id,
                iso(ev.received_ts),
                ev.received_ts,
                ev.workflow_id,
                ev.status_code,
                ev.outcome,
                ev.idempotency_key,
            )
            for ev in rows
        ],
    )


#: The earliest kept run of the same workflow with the same Idempotency-Key or body bytes, as a
#: scalar subquery over the INSERT's own parameters: two index probes (``runs_by_key``,
#: ``runs_by_body``), each ``min(seq)`` read off its index, so a body repeated 100,000 times
#: costs what a unique one does.
_DUPLICATE_OF = (
    "(SELECT id FROM runs WHERE seq = min("
    "ifnull((SELECT min(seq) FROM runs WHERE workflow_id=:workflow_id"
    " AND idempotency_key=:idempotency_key), 9223372036854775807),"
    "ifnull((SELECT min(seq) FROM runs WHERE workflow_id=:workflow_id"
    " AND body_sha256=:body_sha256), 9223372036854775807)))"
)
_INSERT_RUN = (
    f"INSERT INTO runs ({RUN_COLUMNS}, received_ts, idempotency_key, body_sha256) VALUES ("  # noqa: S608 - constant SQL, values bound  # nosec B608
    ":id, :workflow_id, :request_id, :status, :received_at, :started_at, :finished_at,"
    f" :fields, :error, :payload, {_DUPLICATE_OF}, :received_ts, :idempotency_key,"
    " :body_sha256)"
)


def insert_runs(db: sqlite3.Connection, runs: Iterable[tuple[PendingRun, Outcome | None]]) -> None:
    """Record each run: finished with its outcome, or ``queued`` when that is None.

    One ``executemany`` for a whole group commit: the writer crosses into SQLite (and gives up
    the GIL) once per batch rather than three times per run; each row still sees the rows
    inserted before it, so a duplicate within one batch is marked too.
    """
    db.executemany(_INSERT_RUN, [_run_params(run, outcome) for run, outcome in runs])


def _run_params(run: PendingRun, outcome: Outcome | None) -> dict[str, object]:
    if outcome is None:
        status, started, finished, fields, error = "queued", None, None, "{}", None
    else:
        status, started, finished = outcome.status, outcome.started_at, outcome.finished_at
        fields, error = outcome.fields, outcome.error
    return {
        "id": run.id,
        "workflow_id": run.workflow_id,
        "request_id": run.request_id,
        "status": status,
        "received_at": iso(run.received_ts),
        "started_at": started,
        "finished_at": finished,
        "fields": fields,
        "error": error,
        "payload": run.payload_text(),
        "received_ts": run.received_ts,
        "idempotency_key": run.idempotency_key,
        "body_sha256": run.body_sha256,
    }


def finish_runs(db: sqlite3.Connection, finished: Iterable[tuple[str, Outcome]]) -> None:
    """Record the outcome of each queued run that came due (one statement for all of them)."""
    db.executemany(
        "UPDATE runs SET status=?, started_at=?, finished_at=?, fields=?, error=? WHERE id=?",
        [
            (o.status, o.started_at, o.finished_at, o.fields, o.error, run_id)
            for run_id, o in finished
        ],
    )


def trim(db: sqlite3.Connection, workflow_ids: Iterable[str], history: int, journal: int) -> None:
    """Evict the oldest runs past ``history`` per workflow and journal rows past ``journal``."""
    for workflow_id in workflow_ids:
        db.execute(
            "DELETE FROM runs WHERE workflow_id=? AND seq < (SELECT seq FROM runs"
            " WHERE workflow_id=? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
            (workflow_id, workflow_id, history - 1),
        )
    db.execute(
        "DELETE FROM events WHERE seq < (SELECT seq FROM events ORDER BY seq DESC LIMIT 1"
        " OFFSET ?)",
        (journal - 1,),
    )


def sweep(db: sqlite3.Connection, cutoff: float) -> None:
    """Delete runs and journal rows received before ``cutoff`` (the retention period)."""
    db.execute("DELETE FROM runs WHERE received_ts < ?", (cutoff,))
    db.execute("DELETE FROM events WHERE received_ts < ?", (cutoff,))


def save_user(db: sqlite3.Connection, username: str, token_sha256: bytes) -> None:
    db.execute(
        "INSERT OR REPLACE INTO users (username, token_sha256) VALUES (?, ?)",
        (username, token_sha256),
    )


def save_workflow(db: sqlite3.Connection, workflow_id: str, body: str) -> None:
    db.execute("INSERT OR REPLACE INTO workflows (id, body) VALUES (?, ?)", (workflow_id, body))
    db.execute("DELETE FROM deleted_workflows WHERE id=?", (workflow_id,))


def delete_workflow(db: sqlite3.Connection, workflow_id: str, name: str) -> None:
    """Forget the workflow but keep its runs, remembering that it existed."""
    db.execute("DELETE FROM workflows WHERE id=?", (workflow_id,))
    db.execute(
        "INSERT OR REPLACE INTO deleted_workflows (id, name) VALUES (?, ?)", (workflow_id, name)
    )


def wipe(db: sqlite3.Connection, *, everything: bool) -> None:
    """Forget runs and the journal (and users and workflows when ``everything``)."""
    db.execute("DELETE FROM runs")
    db.execute("DELETE FROM events")
    db.execute("DELETE FROM deleted_workflows")
    if everything:
        db.execute("DELETE FROM workflows")
        db.execute("DELETE FROM users")


def run_filter(workflow_id: str | None, status: str | None) -> tuple[str, tuple[Any, ...]]:
    clauses, params = [], []
    if workflow_id is not None:
        clauses.append("workflow_id=?")
        params.append(workflow_id)
    if status is not None:
        clauses.append("status=?")
        params.append(status)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else "WHERE 1=1"
    return where, tuple(params)


def run_record(row: Sequence[Any]) -> dict[str, Any]:
    """A ``runs`` row (:data:`RUN_COLUMNS`) as the run-record contract shapes it."""
    (run_id, wf, request_id, status, received, started, finished, fields, error, payload, dup) = row
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
        "duplicate_of": dup,
    }
