"""At-least-once, said honestly: only events whose outcome is unknown are resent, and counted.

Also the outbox's file modes, and the pure schedule with an injected clock.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from support.delivery import deliver_fast, outbox_of
from support.destination import TRIGGER
from support.profiles import profiles

from connector.activation import Activation
from connector.delivery import (
    DeliveryOptions,
    Schedule,
)
from connector.delivery.outbox import NewEvent, StoredEvent
from connector.errors import AuthRejected
from connector.render import Payload, Renderer


@pytest.fixture
def trigger(respx_mock: respx.MockRouter) -> respx.Route:
    return respx_mock.post(url__startswith=TRIGGER)


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ReadError])
def test_a_lost_answer_makes_the_resend_an_unknown_outcome_resend(
    activation: Activation, state_dir: Path, trigger: respx.Route, error: type[Exception]
) -> None:
    """The request may have started a run: its resend is counted, on disk and in the report."""
    trigger.mock(side_effect=[error("lost"), httpx.Response(202)])
    report = deliver_fast(activation, state_dir, profiles(1))
    assert report.delivered == 1
    assert report.retries == 1
    assert report.unknown_outcome_resends == 1
    assert report.as_dict()["unknown_outcome_resends"] == 1
    assert "1 resent after an unknown outcome" in report.summary()
    with outbox_of(activation, state_dir) as outbox:
        assert list(outbox.resends().values()) == [1]


@pytest.mark.parametrize("first", [httpx.ConnectError("refused"), httpx.Response(503)])
def test_a_known_outcome_is_retried_without_counting_a_resend(
    activation: Activation, state_dir: Path, trigger: respx.Route, first: Any
) -> None:
    """No connection, or a definite answer: no run can exist, so the retry is no resend."""
    trigger.mock(side_effect=[first, httpx.Response(202)])
    report = deliver_fast(activation, state_dir, profiles(1))
    assert report.delivered == 1
    assert report.retries == 1
    assert report.unknown_outcome_resends == 0


def test_an_event_in_flight_at_a_kill_is_resent_and_counted_next_run(
    activation: Activation, state_dir: Path, trigger: respx.Route
) -> None:
    """An event marked in doubt (its request left, then the process died) counts when resent."""
    payload = Renderer(activation).render(profiles(1)[0])
    assert isinstance(payload, Payload)
    with outbox_of(activation, state_dir) as outbox:
        outbox.add([NewEvent(payload.event_id, payload.identity, payload.body)])
        outbox.add([NewEvent("never-sent", "Email:other@example.com", payload.body)])
        outbox.mark_in_doubt([payload.event_id])  # what a dispatch writes before the POST
    trigger.mock(return_value=httpx.Response(202))
    report = deliver_fast(activation, state_dir, [])
    assert report.delivered == 2
    assert report.unknown_outcome_resends == 1
    with outbox_of(activation, state_dir) as outbox:
        assert outbox.resends() == {payload.event_id: 1}


def test_a_definite_answer_clears_the_doubt(
    activation: Activation, state_dir: Path, trigger: respx.Route
) -> None:
    """Lost once, then 401: the event stays pending, in doubt; a 503 next run clears it."""
    trigger.mock(side_effect=[httpx.ReadTimeout("lost"), httpx.Response(401)])
    with pytest.raises(AuthRejected) as info:
        deliver_fast(activation, state_dir, profiles(1))
    assert info.value.report is not None
    assert info.value.report.unknown_outcome_resends == 1
    assert info.value.report.pending == 1
    with outbox_of(activation, state_dir) as outbox:
        assert [e.in_doubt for e in outbox.pending()] == [False]


def test_state_files_are_private_on_creation(
    activation: Activation, state_dir: Path, trigger: respx.Route
) -> None:
    """The state directory is 0700 and every file in it 0600 (profile data is personal)."""
    trigger.mock(side_effect=[httpx.Response(503), httpx.Response(202), httpx.Response(202)])
    deliver_fast(activation, state_dir, profiles(2))
    assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
    files = list(state_dir.iterdir())
    assert any(f.name.endswith(".sqlite") for f in files)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_state_files_are_made_private_on_reuse(activation: Activation, state_dir: Path) -> None:
    """A state directory and outbox left readable by an older version are tightened."""
    with outbox_of(activation, state_dir) as outbox:
        path = outbox.path
    state_dir.chmod(0o755)
    for file in state_dir.iterdir():
        file.chmod(0o644)
    with outbox_of(activation, state_dir):
        assert stat.S_IMODE(state_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        for file in state_dir.iterdir():
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def event(seq: int, identity: str) -> StoredEvent:
    return StoredEvent(seq, f"e{seq}", identity, b"{}")


def test_schedule_keeps_per_identity_order_and_the_in_flight_limit() -> None:
    """One event per identity at a time, at most max_in_flight in all, first come first served."""
    schedule = Schedule(2, clock=Clock())
    for seq, identity in enumerate(["a", "a", "b", "c"]):
        schedule.add(event(seq, identity))
    first = schedule.due()
    assert [e.event_id for e in first] == ["e0", "e2"]
    assert schedule.due() == []
    schedule.returned()
    schedule.finish(first[0])
    assert [e.event_id for e in schedule.due()] == ["e3"]
    schedule.returned()
    schedule.finish(first[1])
    assert [e.event_id for e in schedule.due()] == ["e1"]


def test_schedule_waits_for_the_clock_before_a_retry() -> None:
    """A retried identity comes back only when the injected clock passes its time."""
    clock = Clock()
    schedule = Schedule(5, clock=clock)
    schedule.add(event(0, "a"))
    (sent,) = schedule.due()
    schedule.returned()
    schedule.retry_in(sent, 2.0)
    assert schedule.due() == []
    assert schedule.next_wakeup() == 2.0
    clock.now += 2.0
    assert schedule.due() == [sent]
    assert schedule.tries(sent).attempts == 2
    assert schedule.tries(sent).first == 100.0


def test_schedule_holds_an_identity_with_its_later_events() -> None:
    """Held: the identity's events come back to the caller and later ones are refused."""
    schedule = Schedule(5, clock=Clock())
    schedule.add(event(0, "a"))
    schedule.add(event(1, "a"))
    (sent,) = schedule.due()
    schedule.returned()
    assert [e.event_id for e in schedule.hold("a")] == ["e0", "e1"]
    assert not schedule.add(event(2, "a"))
    assert schedule.idle
    assert sent.event_id == "e0"


def test_delivery_options_refuse_nonsense() -> None:
    """An unknown retry policy or no room in flight is a programming error, said plainly."""
    with pytest.raises(ValueError, match="retry_policy must be one of harness, aep"):
        DeliveryOptions(retry_policy="stripe")
    with pytest.raises(ValueError, match="max_in_flight must be at least 1"):
        DeliveryOptions(max_in_flight=0)
    assert "transport" not in repr(DeliveryOptions())
