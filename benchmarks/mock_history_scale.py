"""What one request costs the mock's store at 0, 100k and 1M runs already in the database.

Each size gets a fresh database file, filled directly with SQL (``WITH RECURSIVE``, one
statement: a million rows in seconds, not a million requests), then a live mock is opened on it
with ``history_limit`` and ``journal_limit`` at the size, so every further run evicts one. Timed,
as the median of many repetitions on that database:

- ``commit``: one accepted trigger committed by the writer (journal row, run with its
  ``duplicate_of`` lookups, eviction of the oldest run and journal row);
- ``run list``: ``GET /__admin/workflows/{id}/runs?limit=100``, and the page 500 deep (by the
  ``before`` cursor);
- ``UI page``: ``GET /`` (per-workflow counts) and ``GET /workflows/{id}?view=all`` with its
  older-runs cursor;
- ``export``: the first 10,000 records of ``GET /__admin/export``.

Target: each figure at 1M within noise of the figure at 0 (cost independent of history size); the
run list under 200 ms and the UI page under 500 ms at 1M runs. Informational, never a failure.

    python benchmarks/mock_history_scale.py [--sizes 0,100000,1000000] [--quick]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mock_qualtrics import create_app, history
from mock_qualtrics.ops import AcceptRun
from mock_qualtrics.records import EventRow, PendingRun
from mock_qualtrics.state import current_state

WORKFLOW = "WF_scale"
_FILL_RUNS = """
INSERT INTO runs (id, workflow_id, request_id, status, received_at, received_ts, started_at,
                  finished_at, fields, error, payload, duplicate_of, idempotency_key, body_sha256)
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT :n)
SELECT printf('run-%08d', i), :wf, printf('req-%08d', i), 'Succeeded', :at, :ts + i * 1e-6,
       :at, :at, '{"email":"dave@example.com"}', NULL, :payload, NULL, printf('key-%d', i),
       randomblob(32)
FROM c
"""
_FILL_EVENTS = """
INSERT INTO events (request_id, received_at, received_ts, workflow_id, status_code, outcome,
                    idempotency_key)
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT :n)
SELECT printf('req-%08d', i), :at, :ts + i * 1e-6, :wf, 202, 'accepted', printf('key-%d', i)
FROM c
"""
PAYLOAD = '{"identityMap":{"Email":[{"id":"dave@example.com"}]}}'


def fill(path: Path, size: int) -> float:
    """Create the schema in ``path`` and insert ``size`` runs and journal rows; seconds taken."""
    started = time.perf_counter()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    history.open_schema(db)
    now = time.time() - 3600
    params = {"n": size, "wf": WORKFLOW, "at": "2026-01-01T00:00:00Z", "ts": now}
    if size:
        db.execute("BEGIN")
        db.execute(_FILL_RUNS, {**params, "payload": PAYLOAD})
        db.execute(_FILL_EVENTS, params)
        db.execute("COMMIT")
    db.close()
    return time.perf_counter() - started


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(path: Path, size: int, repeat: int) -> dict[str, float]:
    bound = max(size, 1000)
    app = create_app(
        {
            "DATABASE": str(path),
            "RUN_DELAY": 0,
            "HISTORY_LIMIT": bound,
            "JOURNAL_LIMIT": bound,
            "WORKFLOWS": [{"id": WORKFLOW, "name": "scale", "owner": "bench"}],
        }
    )
    state = current_state(app)
    store = state.store
    client = app.test_client()
    counter = iter(range(10**9))

    def commit() -> None:
        i = next(counter)
        now = time.time()
        body = b'{"n":%d}' % i
        run = PendingRun(
            f"bench-{i}",
            WORKFLOW,
            f"breq-{i}",
            now,
            body,
            {"n": i},
            (),
            "raw",
            f"bkey-{i}",
            hashlib.sha256(body).digest(),
        )
        row = EventRow(f"breq-{i}", now, WORKFLOW, 202, "accepted", f"bkey-{i}")
        store.wait(store.submit(AcceptRun(row, run, now), wait=True))

    out = {"commit": median_ms(commit, repeat * 10)}
    runs_url = f"/__admin/workflows/{WORKFLOW}/runs?limit=100"
    out["run list"] = median_ms(lambda: client.get(runs_url), repeat)
    deep = store.list_runs(WORKFLOW, limit=1, offset=min(500 * 100, max(size - 1, 0)))
    cursor = f"&before={deep[0]['id']}" if deep else ""
    out["run list, deep"] = median_ms(lambda: client.get(runs_url + cursor), repeat)
    out["UI /"] = median_ms(lambda: client.get("/"), repeat)
    page = f"/workflows/{WORKFLOW}?view=all"
    out["UI page"] = median_ms(lambda: client.get(page), repeat)

    def export() -> None:
        response = client.get("/__admin/export")
        for n, _ in enumerate(response.response):
            if n >= 10_000:
                break
        response.close()

    out["export 10k"] = median_ms(export, max(1, repeat // 5))
    store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,100000,1000000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="sizes 0 and 20,000, few repeats")
    args = parser.parse_args()
    sizes = [0, 20_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    repeat = 5 if args.quick else args.repeat
    print(f"load average {os.getloadavg()[0]:.1f} (the machine is shared: ratios matter)")
    rows: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = Path(tmp) / f"scale-{size}.db"
            took = fill(path, size)
            rows[size] = measure(path, size, repeat)
            print(f"  filled {size:,} runs in {took:.1f} s", flush=True)
    names = list(next(iter(rows.values())))
    # The export of an empty database exports nothing: compare it from the first non-empty size.
    base = {name: sizes[0] for name in names}
    base["export 10k"] = next((size for size in sizes if size), sizes[0])
    print(f"{'median ms':<16}" + "".join(f"{size:>12,}" for size in sizes) + "   largest/from")
    for name in names:
        first, last = rows[base[name]][name], rows[sizes[-1]][name]
        cells = "".join(f"{rows[size][name]:>12.2f}" for size in sizes)
        print(f"{name:<16}{cells}   {last / first:>6.1f}x from {base[name]:,}")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
