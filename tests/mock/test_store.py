"""The store's writer: durable tickets, a failing op failing alone, bookkeeping after commit.

Each test here is a regression test for a bug of the old single-module store: one failing op
rolled back the whole group commit (other requests' runs included) while the writer still
reported success, and timers pushed or cleared inside a rolled-back transaction left phantom runs
or runs stuck in ``queued``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.ops import accepted

from mock_qualtrics.ops import AcceptRun, Tx, Wipe
from mock_qualtrics.records import PendingRun
from mock_qualtrics.store import Store, StoreError


def _store(path: str = ":memory:") -> Store:
    return Store(path, history_limit=100, journal_limit=1000, retention_days=30)


@dataclass(frozen=True)
class _Gate:
    """An op that holds the writer until released, so the next ops form one batch."""

    entered: threading.Event
    release: threading.Event

    def apply(self, tx: Tx) -> None:
        self.entered.set()
        self.release.wait(10)


@dataclass(frozen=True)
class _Boom:
    def apply(self, tx: Tx) -> None:
        tx.db.execute("INSERT INTO runs (id) VALUES ('broken')")  # violates NOT NULL


def _batch(store: Store, *ops: object) -> list[int]:
    """Submit ``ops`` so that the writer applies them in one transaction."""
    gate = _Gate(threading.Event(), threading.Event())
    store.submit(gate)
    assert gate.entered.wait(10)
    tickets = [store.submit(op, wait=True) for op in ops]  # type: ignore[arg-type]
    gate.release.set()
    return tickets


def test_a_failing_op_fails_alone_and_its_requester_hears() -> None:
    store = _store()
    try:
        first, bad, last = _batch(store, accepted(1), _Boom(), accepted(2))
        store.wait(first)
        store.wait(last)
        with pytest.raises(StoreError, match="IntegrityError"):
            store.wait(bad)
        assert sorted(r["id"] for r in store.list_runs("WF")) == ["run-1", "run-2"]
        assert len(store.list_events()) == 2
    finally:
        store.close()


def test_timers_follow_what_was_committed() -> None:
    """A queued run in a batch with a failing op still finishes."""
    store = _store()
    try:
        queued, bad = _batch(store, accepted(1, delay=0.05), _Boom())
        store.wait(queued)
        with pytest.raises(StoreError):
            store.wait(bad)
        (run,) = store.list_runs("WF")
        assert run["status"] == "queued"
        deadline = time.monotonic() + 10
        while store.list_runs("WF")[0]["status"] == "queued" and time.monotonic() < deadline:
            store.wait_change(store.generation, 0.5)
        assert store.list_runs("WF")[0]["status"] == "Succeeded"
    finally:
        store.close()


@dataclass(frozen=True)
class _FailingWipe:
    """A wipe that does all its work (rows deleted, timers cleared), then fails."""

    def apply(self, tx: Tx) -> None:
        Wipe(everything=False).apply(tx)
        raise RuntimeError("the disk went away after the wipe")


def test_a_failed_wipe_clears_nothing() -> None:
    """A wipe that fails after doing its work: the queued runs of earlier commits (one of them in
    its own batch) keep their rows, journal entries and timers, so they still finish."""
    store = _store()
    try:
        store.run(accepted(1, delay=0.5))
        queued, bad = _batch(store, accepted(2, delay=0.5), _FailingWipe())
        store.wait(queued)
        with pytest.raises(StoreError, match="the disk went away"):
            store.wait(bad)
        assert sorted(r["id"] for r in store.list_runs("WF")) == ["run-1", "run-2"]
        assert len(store.list_events()) == 2
        deadline = time.monotonic() + 10
        while (
            any(r["status"] == "queued" for r in store.list_runs("WF"))
            and time.monotonic() < deadline
        ):
            store.wait_change(store.generation, 0.5)
        assert [r["status"] for r in store.list_runs("WF")] == ["Succeeded", "Succeeded"]
    finally:
        store.close()


def test_a_committed_wipe_forgets_queued_runs_for_good() -> None:
    """A wipe after a queued run clears its timer: no phantom run reappears or finishes."""
    store = _store()
    try:
        store.run(accepted(1, delay=0.05))
        store.run(Wipe(everything=False))
        time.sleep(0.1)  # past the forgotten run's due time
        store.run(accepted(2))
        assert [r["id"] for r in store.list_runs("WF")] == ["run-2"]
    finally:
        store.close()


def test_close_finishes_queued_runs_and_refuses_more(tmp_path: Path) -> None:
    db = str(tmp_path / "m.db")
    store = _store(db)
    store.run(accepted(1, delay=3600))
    store.close()
    with pytest.raises(StoreError):
        store.submit(accepted(2))
    again = _store(db)
    try:
        assert again.list_runs("WF")[0]["status"] == "Succeeded"
    finally:
        again.close()


def test_long_polls_end_when_the_mock_shuts_down() -> None:
    store = _store()
    woke: list[bool] = []
    waiter = threading.Thread(target=lambda: woke.append(store.wait_change(store.generation, 30)))
    waiter.start()
    store.wake()
    waiter.join(10)
    store.close()
    assert woke == [False]


def test_idempotency_keys_release_and_expire() -> None:
    """The extension's key table: a key whose run was not recorded is released; expired keys
    are forgotten (and swept once enough new keys arrive)."""
    from mock_qualtrics.idempotency import IdempotencyKeys

    keys = IdempotencyKeys(ttl=10)
    assert keys.claim("WF", "k", "req-1", now=0) is None
    assert keys.claim("WF", "k", "req-2", now=1) == "req-1"
    keys.release("WF", "k", "req-2")  # not its owner: nothing happens
    assert keys.lookup("WF", "k", now=2) == "req-1"
    keys.release("WF", "k", "req-1")
    assert keys.lookup("WF", "k", now=2) is None
    assert keys.claim("WF", "old", "req-3", now=0) is None
    assert keys.lookup("WF", "old", now=11) is None  # expired
    for n in range(10_002):  # enough claims to trigger a sweep of expired keys
        keys.claim("WF", f"key-{n}", f"r-{n}", now=20)
    assert keys.claim("WF", "key-0", "again", now=40) is None  # key-0 expired at 30


def _same_body(n: int, key: str | None = None) -> AcceptRun:
    op = accepted(n)
    run = PendingRun(
        id=op.run.id,
        workflow_id="WF",
        request_id=op.run.request_id,
        received_ts=op.run.received_ts,
        body=b'{"same": 1}',
        document={"same": 1},
        fields=(),
        storage="raw",
        body_sha256=b"\x01" * 32,
        idempotency_key=key,
    )
    return AcceptRun(op.row, run, op.due)


def test_one_group_commit_numbers_runs_in_order_and_marks_duplicates_within_it() -> None:
    """Accepted triggers in one batch go to SQLite as one statement per table; order, the
    journal and ``duplicate_of`` (against rows of the same batch) come out as if one by one."""
    store = _store()
    try:
        tickets = _batch(
            store, _same_body(1), accepted(2), _same_body(3), accepted(4), Wipe(False), accepted(5)
        )
        for ticket in tickets:
            store.wait(ticket)
        assert [r["id"] for r in store.list_runs("WF")] == ["run-5"]  # the wipe came after 1-4
        tickets = _batch(store, _same_body(6), accepted(7), _same_body(8), _same_body(9, "k"))
        for ticket in tickets:
            store.wait(ticket)
        runs = {r["id"]: r for r in store.list_runs("WF")}
        assert [runs[i]["duplicate_of"] for i in ("run-5", "run-6", "run-7", "run-8", "run-9")] == [
            None,
            None,
            None,
            "run-6",
            "run-6",
        ]
        assert len(store.list_events()) == 5
    finally:
        store.close()


def test_history_limit_never_evicts_runs_acknowledged_in_the_same_commit() -> None:
    """history_limit 1 and five runs in one group commit: all five were answered 202 as
    recorded, so all five are kept (the next commit trims them)."""
    store = Store(":memory:", history_limit=1, journal_limit=1000, retention_days=30)
    try:
        for ticket in _batch(store, *(accepted(n) for n in range(1, 6))):
            store.wait(ticket)
        assert len(store.list_runs("WF")) == 5
        store.run(accepted(6))
        assert [r["id"] for r in store.list_runs("WF")] == ["run-6"]
    finally:
        store.close()
