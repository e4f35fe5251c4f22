"""The token bucket's rules with exact oracles: its default burst, its float tolerance, its waits.

A fake clock stands in for time, so every wait is computed, never slept.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.delivery.ratelimit import TokenBucket


class FakeClock:
    """A clock that moves only when the bucket sleeps (or a test moves it)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@given(st.floats(0.01, 1000.0, allow_nan=False))
def test_default_burst_is_the_rate_clamped_to_one_and_ten(rate: float) -> None:
    """Without ``burst``, a bucket holds max(1, min(rate, 10)) tokens, all usable at once."""
    clock = FakeClock()
    bucket = TokenBucket(rate, clock=clock, sleep=clock.sleep)
    assert bucket.burst == max(1.0, min(rate, 10.0))


def test_unlimited_bucket_has_a_burst_of_one() -> None:
    """``rate=None`` never waits; its nominal burst is one token."""
    assert TokenBucket(None).burst == 1.0


@pytest.mark.parametrize("rate", [0.0, -1.0])
def test_a_rate_that_is_not_positive_is_refused(rate: float) -> None:
    """Zero or a negative rate would never grant a token: a programming error, named."""
    with pytest.raises(ValueError, match=rf"rate must be positive or None, got {rate!r}"):
        TokenBucket(rate)


def test_a_token_short_by_float_residue_is_granted_at_once() -> None:
    """A bucket exactly 1e-9 short of one token grants it without a wait (no endless tiny sleeps)."""
    clock = FakeClock()
    bucket = TokenBucket(1.0, burst=1.0, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    clock.now = 1.0 - 1e-9  # refills (1 - 1e-9) tokens at 1 token/s
    bucket.acquire()
    assert clock.sleeps == []


def test_a_token_short_by_more_than_the_residue_waits() -> None:
    """A bucket 1e-6 short of a token waits exactly for the missing part."""
    clock = FakeClock()
    bucket = TokenBucket(1.0, burst=1.0, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    clock.now = 1.0 - 1e-6
    bucket.acquire()
    assert clock.sleeps == [pytest.approx(1e-6, abs=1e-12)]


@pytest.mark.parametrize("burst", [0.0, 0.5, 0.999])
def test_a_burst_below_one_token_is_refused(burst: float) -> None:
    """A bucket that can never hold a whole token would make ``acquire()`` wait forever."""
    with pytest.raises(ValueError, match=rf"burst must be at least 1, got {burst!r}"):
        TokenBucket(1.0, burst=burst)


@given(
    st.floats(0.5, 200.0, allow_nan=False),
    st.integers(1, 10),
    st.floats(0.0, 0.99, allow_nan=False),
)
def test_the_wait_is_exactly_the_missing_fraction_of_a_token(
    rate: float, burst: int, refilled: float
) -> None:
    """After the burst is spent and ``refilled`` of a token has accrued, the wait is (1-f)/rate."""
    clock = FakeClock()
    bucket = TokenBucket(rate, burst=float(burst), clock=clock, sleep=clock.sleep)
    for _ in range(burst):
        bucket.acquire()
    assert clock.sleeps == []
    clock.now += refilled / rate
    bucket.acquire()
    assert clock.sleeps == [pytest.approx((1.0 - refilled) / rate, rel=1e-6, abs=1e-9)]


def test_tokens_never_go_negative() -> None:
    """Waiting for a token leaves the bucket empty, not in debt: the next wait is one interval."""
    clock = FakeClock()
    bucket = TokenBucket(4.0, burst=1.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        bucket.acquire()
    assert clock.sleeps == [pytest.approx(0.25), pytest.approx(0.25)]


def test_repr_shows_rate_and_burst() -> None:
    """The repr names the two settings that decide the pace."""
    assert repr(TokenBucket(2.5, burst=3.0)) == "TokenBucket(rate=2.5, burst=3.0)"
