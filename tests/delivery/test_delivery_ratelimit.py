"""The token bucket, driven by a fake clock (no test waits)."""

from __future__ import annotations

import pytest

from connector.delivery.ratelimit import TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def test_average_rate_is_kept() -> None:
    """400 acquisitions at 40/s take about 10 s of (fake) time, minus the initial burst."""
    clock = FakeClock()
    bucket = TokenBucket(40.0, clock=clock, sleep=clock.sleep)
    for _ in range(400):
        bucket.acquire()
    assert clock.now == pytest.approx((400 - bucket.burst) / 40.0, rel=0.01)


def test_burst_is_bounded() -> None:
    """After a long idle spell, at most `burst` tokens are available at once."""
    clock = FakeClock()
    bucket = TokenBucket(40.0, burst=5, clock=clock, sleep=clock.sleep)
    clock.now = 1000.0
    for _ in range(5):
        bucket.acquire()
    assert clock.slept == 0.0
    bucket.acquire()
    assert clock.slept == pytest.approx(1 / 40.0)


def test_unlimited_never_waits() -> None:
    """rate=None lifts the limit."""
    clock = FakeClock()
    bucket = TokenBucket(None, clock=clock, sleep=clock.sleep)
    for _ in range(10_000):
        bucket.acquire()
    assert clock.slept == 0.0


def test_rate_must_be_positive() -> None:
    """A zero or negative rate is a programming error."""
    with pytest.raises(ValueError, match="positive"):
        TokenBucket(0.0)
