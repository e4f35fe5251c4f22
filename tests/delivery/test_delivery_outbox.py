"""The outbox: durable, deduplicating, ordered per identity, one writer at a time."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)

from connector.delivery.outbox import NewEvent, Outbox
from connector.errors import StateError


def event(number: int, identity: str = "Email:a@example.com") -> NewEvent:
    return NewEvent(f"event-{number}", identity, b'{"n":%d}' % number)


def test_add_then_pending_in_order(tmp_path: Path) -> None:
    """Pending events come back in the order they were written."""
    with Outbox(tmp_path, "d") as outbox:
        stored, duplicates = outbox.add([event(1), event(2), event(3, "Email:b@example.com")])
        assert duplicates == []
        assert [e.event_id for e in outbox.pending()] == ["event-1", "event-2", "event-3"]
        assert [e.event_id for e in stored] == ["event-1", "event-2", "event-3"]


def test_duplicates_are_not_stored_again(tmp_path: Path) -> None:
    """The same event id, in any state or twice in one batch, is a duplicate."""
    with Outbox(tmp_path, "d") as outbox:
        outbox.add([event(1)])
        outbox.record(delivered=["event-1"])
        stored, duplicates = outbox.add([event(1), event(2), event(2)])
        assert [e.event_id for e in stored] == ["event-2"]
        assert [e.event_id for e in duplicates] == ["event-1", "event-2"]


def test_dead_letters_keep_the_reason_and_body(tmp_path: Path) -> None:
    """A permanent failure leaves pending with its reason and body kept."""
    with Outbox(tmp_path, "d") as outbox:
        outbox.add([event(1), event(2)])
        outbox.record(delivered=["event-2"], dead=[("event-1", "http 404 Not Found", 404)])
        assert outbox.pending() == []
        [letter] = outbox.dead_letters()
        assert (letter.event_id, letter.reason, letter.status_code) == (
            "event-1",
            "http 404 Not Found",
            404,
        )
        assert letter.body == b'{"n":1}'
        assert outbox.counts() == {"pending": 0, "delivered": 1, "dead": 1}


def test_delivered_bodies_are_dropped(tmp_path: Path) -> None:
    """Once delivered, only the id is kept (no personal data lingers)."""
    with Outbox(tmp_path, "d") as outbox:
        outbox.add([event(1)])
        outbox.record(delivered=["event-1"])
        path = outbox.path
    with closing(sqlite3.connect(path)) as db:
        body = db.execute("SELECT body FROM events").fetchone()[0]
    assert body is None


def test_wal_and_full_sync(tmp_path: Path) -> None:
    """The file is in WAL mode; the connection syncs fully."""
    with Outbox(tmp_path, "d") as outbox:
        assert outbox._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert outbox._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_second_sender_is_refused(tmp_path: Path) -> None:
    """The state directory's lock refuses a second outbox (exit 2)."""
    with Outbox(tmp_path, "d"), pytest.raises(StateError, match="locked"):
        Outbox(tmp_path, "other")
    with Outbox(tmp_path, "d"):  # released on close
        pass


def test_unusable_state_dir(tmp_path: Path) -> None:
    """A state path that is a file is a usage error."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StateError):
        Outbox(blocker, "d")


def test_destinations_are_kept_apart(tmp_path: Path) -> None:
    """Two destinations in one state directory never see each other's events."""
    with Outbox(tmp_path, "one") as outbox:
        outbox.add([event(1)])
    with Outbox(tmp_path, "two") as outbox:
        assert outbox.pending() == []
        stored, _ = outbox.add([event(1)])
        assert len(stored) == 1


IDENTITIES = st.sampled_from(["Email:a@x.com", "Email:b@x.com", "ECID:c"])


class OutboxMachine(RuleBasedStateMachine):
    """Add, deliver, dead-letter, crash and reopen: nothing is lost, nothing delivered twice."""

    pending_ids = Bundle("pending_ids")

    def __init__(self) -> None:
        super().__init__()
        self.counter = 0
        self.model_pending: dict[str, tuple[int, str]] = {}  # id -> (order, identity)
        self.model_done: dict[str, str] = {}  # id -> delivered | dead
        self.abandoned: list[Outbox] = []

    @initialize()
    def open(self) -> None:
        import tempfile

        self.dir = Path(tempfile.mkdtemp(prefix="outbox-machine-"))
        self.outbox = Outbox(self.dir, "d")

    @rule(target=pending_ids, identity=IDENTITIES)
    def add(self, identity: str) -> str:
        self.counter += 1
        new = NewEvent(f"e{self.counter}", identity, b"{}")
        stored, duplicates = self.outbox.add([new])
        assert len(stored) == 1
        assert not duplicates
        self.model_pending[new.event_id] = (self.counter, identity)
        return new.event_id

    @rule(event_id=pending_ids)
    def add_again(self, event_id: str) -> None:
        """Re-adding a known id (re-running input) stores nothing."""
        stored, duplicates = self.outbox.add([NewEvent(event_id, "Email:a@x.com", b"{}")])
        assert stored == []
        assert len(duplicates) == 1

    @rule(event_id=consumes(pending_ids))
    def deliver(self, event_id: str) -> None:
        self.outbox.record(delivered=[event_id])
        self.model_pending.pop(event_id)
        self.model_done[event_id] = "delivered"

    @rule(event_id=consumes(pending_ids))
    def dead_letter(self, event_id: str) -> None:
        self.outbox.record(dead=[(event_id, "http 400 Bad Request", 400)])
        self.model_pending.pop(event_id)
        self.model_done[event_id] = "dead"

    @rule()
    def crash_and_reopen(self) -> None:
        """Abandon the connection without closing it (as kill -9 would), then reopen."""
        self.abandoned.append(self.outbox)
        self.outbox._lock.release()  # the kernel does this when the process dies
        self.outbox = Outbox(self.dir, "d")

    @invariant()
    def nothing_lost_and_order_kept(self) -> None:
        if not hasattr(self, "outbox"):
            return
        pending = self.outbox.pending()
        expected = sorted(self.model_pending, key=lambda i: self.model_pending[i][0])
        assert [e.event_id for e in pending] == expected
        for identity in {i for _, i in self.model_pending.values()}:
            mine = [e.seq for e in pending if e.identity == identity]
            assert mine == sorted(mine)

    @invariant()
    def delivered_never_pending_again(self) -> None:
        if not hasattr(self, "outbox"):
            return
        for event_id, state in self.model_done.items():
            assert self.outbox.state_of(event_id) == state

    def teardown(self) -> None:
        if hasattr(self, "outbox"):
            self.outbox.close()
            for old in self.abandoned:
                old._db.close()
            shutil.rmtree(self.dir, ignore_errors=True)


OutboxMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=25, deadline=None)
TestOutboxMachine = OutboxMachine.TestCase
