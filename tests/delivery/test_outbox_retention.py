"""Bounded growth: delivered events are remembered for ``keep_delivered``, then pruned as runs go.

An injected clock ages the events: no test sleeps or depends on the date.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import httpx
from support.delivery import deliver_fast
from support.profiles import profile

from connector.activation import Activation
from connector.delivery.outbox import DAY

#: Days a delivered event is kept in these tests (the CLI's default is 30).
KEEP = 10


class Clock:
    """Wall-clock time that a test moves by days."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def days(self, count: float) -> None:
        self.now += count * DAY


def _accepting(request: httpx.Request) -> httpx.Response:
    return httpx.Response(202, json={"result": {}, "meta": {"httpStatus": "202 - Accepted"}})


def _run(activation: Activation, state: Path, clock: Clock, items: list[object]) -> dict[str, int]:
    report = deliver_fast(
        activation,
        state,
        items,
        clock=clock,
        keep_delivered=KEEP * DAY,
        transport=httpx.MockTransport(_accepting),
    )
    return {
        "delivered": report.ledger.delivered,
        "already": report.ledger.already_delivered,
    }


def _outbox_size(state: Path) -> tuple[int, int]:
    """(delivered rows, file bytes) of the one outbox in ``state``, after its runs closed it."""
    [path] = state.glob("outbox-*.sqlite")
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT COUNT(*) FROM events WHERE state = 'delivered'").fetchone()[0]
    return int(rows), path.stat().st_size


def test_an_outbox_fed_past_the_window_stays_bounded(
    activation: Activation, state_dir: Path
) -> None:
    """Fed 20 new profiles a day for 4 windows, the outbox holds at most a window's worth of
    delivered ids, and its file stops growing once the first window has passed."""
    clock = Clock()
    sizes: dict[int, tuple[int, int]] = {}
    for day in range(4 * KEEP):
        batch = [profile(f"d{day}-{n}@example.com") for n in range(20)]
        assert _run(activation, state_dir, clock, batch)["delivered"] == 20
        sizes[day] = _outbox_size(state_dir)
        clock.days(1)
    assert max(rows for rows, _ in sizes.values()) <= (KEEP + 1) * 20
    assert sizes[4 * KEEP - 1][0] == (KEEP + 1) * 20
    settled = sizes[2 * KEEP][1]
    assert sizes[4 * KEEP - 1][1] <= settled * 1.1, sizes


def test_a_resent_input_is_skipped_inside_the_window_and_sent_after_it(
    activation: Activation, state_dir: Path
) -> None:
    """The same profile again within the window is skipped; after it, it is delivered again
    (the outbox no longer remembers it: at-least-once, a second run)."""
    clock = Clock()
    same = [profile("again@example.com")]
    assert _run(activation, state_dir, clock, same) == {"delivered": 1, "already": 0}
    clock.days(KEEP - 1)
    assert _run(activation, state_dir, clock, same) == {"delivered": 0, "already": 1}
    clock.days(2)  # KEEP + 1 days after the delivery: pruned as this run starts
    assert _run(activation, state_dir, clock, same) == {"delivered": 1, "already": 0}


def test_pending_and_dead_events_are_never_pruned(activation: Activation, state_dir: Path) -> None:
    """Only delivered ids age out: a pending event stays however old it is."""
    clock = Clock()
    report = deliver_fast(
        activation,
        state_dir,
        [profile("late@example.com")],
        clock=clock,
        keep_delivered=0.0,
        max_retry_time=0.0,
        transport=httpx.MockTransport(lambda request: httpx.Response(503)),
    )
    assert report.pending == 1
    clock.days(365)
    again = deliver_fast(
        activation,
        state_dir,
        [],
        clock=clock,
        keep_delivered=0.0,
        transport=httpx.MockTransport(_accepting),
    )
    assert (again.identities_activated, again.pending) == (1, 0)
