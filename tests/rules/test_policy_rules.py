"""The retry policy's rules with exact oracles: the backoff ceiling, Retry-After, HTTP dates.

A stub random source returns the top (or bottom) of the interval it is asked for, so the
backoff's ceiling is observed exactly instead of bounded from above.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.delivery.policy import (
    AEP_RETRY_STATUSES,
    AEP_RETRY_WAITS,
    Backoff,
    Verdict,
    classify,
    classify_aep,
    parse_retry_after,
)

#: The default clamp of a Retry-After wait (the connector's documented bounds).
RETRY_AFTER_MIN = 1.0
RETRY_AFTER_MAX = 86_400.0


class Extreme(random.Random):
    """``uniform(a, b)`` returns ``b`` (or ``a``), and records each interval asked for."""

    def __init__(self, top: bool = True) -> None:
        super().__init__(0)
        self.top = top
        self.asked: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.asked.append((a, b))
        return b if self.top else a


def test_defaults_are_the_documented_ones() -> None:
    """Exponential from 0.5 s, capped at 60 s; a Retry-After is clamped to [1 s, 24 h]."""
    backoff = Backoff()
    assert (backoff.base, backoff.cap) == (0.5, 60.0)
    assert (backoff.retry_after_min, backoff.retry_after_max) == (RETRY_AFTER_MIN, RETRY_AFTER_MAX)


@given(st.integers(1, 200))
def test_the_ceiling_for_attempt_n_is_exactly_min_cap_base_2_n_minus_1(attempt: int) -> None:
    """Full jitter draws from [0, min(60, 0.5 * 2**(n-1))], and the ceiling itself is reached."""
    rng = Extreme()
    delay = Backoff(rng=rng).delay(attempt)
    ceiling = min(60.0, 0.5 * 2.0 ** (attempt - 1))
    assert rng.asked == [(0.0, ceiling)]
    assert delay == ceiling


def test_the_ceiling_doubles_until_the_cap() -> None:
    """0.5, 1, 2, ... 32, then 60 from the eighth attempt on: it grows, and not too early."""
    rng = Extreme()
    backoff = Backoff(rng=rng)
    assert [backoff.delay(n) for n in range(1, 10)] == [0.5, 1, 2, 4, 8, 16, 32, 60, 60]


@pytest.mark.parametrize("attempt", [0, -3])
def test_attempts_below_one_use_the_base(attempt: int) -> None:
    """A zero or negative attempt number is treated as the first retry, never a fraction."""
    assert Backoff(rng=Extreme()).delay(attempt) == 0.5


def test_the_exponent_stops_at_62_so_huge_attempts_never_overflow() -> None:
    """Without a cap, attempt 10**9 waits base * 2**62, not an OverflowError or infinity."""
    backoff = Backoff(cap=float("inf"), rng=Extreme())
    assert backoff.delay(10**9) == 0.5 * 2.0**62
    assert backoff.delay(63) == 0.5 * 2.0**62
    assert backoff.delay(62) == 0.5 * 2.0**61


def test_jitter_can_be_zero_without_retry_after() -> None:
    """The bottom of the jitter interval is 0 s: full jitter, not equal jitter."""
    assert Backoff(rng=Extreme(top=False)).delay(5) == 0.0


@given(st.integers(1, 40), st.floats(0.0, 100_000.0, allow_nan=False), st.booleans())
def test_retry_after_and_jitter_the_larger_wins_then_clamped(
    attempt: int, retry_after: float, top: bool
) -> None:
    """With Retry-After the wait is exactly min(24 h, max(1 s, Retry-After, jittered))."""
    jittered = min(60.0, 0.5 * 2.0 ** (attempt - 1)) if top else 0.0
    delay = Backoff(rng=Extreme(top)).delay(attempt, retry_after)
    assert delay == min(RETRY_AFTER_MAX, max(RETRY_AFTER_MIN, retry_after, jittered))


def test_a_longer_jittered_backoff_beats_a_shorter_retry_after() -> None:
    """Retry-After: 5 on the eighth attempt waits the 60 s drawn, not 5 s."""
    assert Backoff(rng=Extreme()).delay(8, 5.0) == 60.0


def test_a_tiny_retry_after_waits_at_least_a_second() -> None:
    """Retry-After: 0 with no jitter still waits 1 s, so a server is never hammered."""
    assert Backoff(rng=Extreme(top=False)).delay(1, 0.0) == RETRY_AFTER_MIN


def test_a_huge_retry_after_is_clamped() -> None:
    """A Retry-After of a year waits the maximum, so an event is not parked forever."""
    assert Backoff(rng=Extreme()).delay(1, 365 * 86_400.0) == RETRY_AFTER_MAX


NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("Wed, 01 Jan 2025 13:00:00 +0100", 0.0),  # the same instant as NOW
        ("Wed, 01 Jan 2025 08:00:30 -0400", 30.0),
        ("Wed, 01 Jan 2025 12:01:00 GMT", 60.0),
        ("Wed, 01 Jan 2025 12:02:00 -0000", 120.0),  # no zone: read as UTC
        ("Wed, 01 Jan 2025 14:00:00 +0100", 3600.0),
    ],
)
def test_http_dates_with_an_offset(value: str, seconds: float) -> None:
    """An HTTP date's zone offset is applied; a date without a zone is UTC."""
    assert parse_retry_after(value, now=NOW) == seconds


def test_a_date_just_past_is_zero_not_negative() -> None:
    """One second in the past gives 0.0."""
    assert parse_retry_after("Wed, 01 Jan 2025 11:59:59 GMT", now=NOW) == 0.0


def test_without_now_the_current_time_is_used() -> None:
    """Without an injected ``now``, the seconds until a date are counted from the real clock."""
    soon = datetime.now(UTC) + timedelta(hours=2)
    value = soon.strftime("%a, %d %b %Y %H:%M:%S GMT")
    parsed = parse_retry_after(value)
    assert parsed is not None
    assert 7000.0 < parsed <= 7200.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


@pytest.mark.parametrize(("value", "seconds"), [("0", 0.0), ("120", 120.0), ("\t7 ", 7.0)])
def test_delta_seconds(value: str, seconds: float) -> None:
    """Delta-seconds, surrounding whitespace ignored, are a float of the same value."""
    parsed = parse_retry_after(value)
    assert parsed == seconds
    assert isinstance(parsed, float)


@pytest.mark.parametrize("value", ["   ", "", "١٢٣"])
def test_blank_or_non_ascii_digits_are_unusable(value: str) -> None:
    """Blank text and non-ASCII digits give None, not 0 or a crash."""
    assert parse_retry_after(value) is None


def test_verdict_values_are_the_names_reports_use() -> None:
    """Each verdict's value is the word written to the outbox and the reports."""
    assert [v.value for v in Verdict] == ["delivered", "transient", "permanent", "auth", "dropped"]


def test_the_random_source_stays_out_of_the_repr() -> None:
    """A Backoff's repr shows its bounds only (a Random's repr is noise in a log line)."""
    assert repr(Backoff()) == (
        f"Backoff(base=0.5, cap=60.0, retry_after_min=1.0, retry_after_max={RETRY_AFTER_MAX!r})"
    )


@pytest.mark.parametrize(
    ("code", "verdict"),
    [(499, "permanent"), (500, "transient"), (501, "permanent"), (504, "transient"),
     (505, "permanent"), (599, "transient"), (600, "permanent"), (199, "permanent"),
     (200, "delivered"), (299, "delivered"), (300, "permanent"), (402, "permanent")],
)  # fmt: skip
def test_status_class_boundaries(code: int, verdict: str) -> None:
    """The edges of each class: 5xx is 500-599 minus 501 and 505; 2xx is 200-299."""
    assert classify(code).value == verdict


AEP_RETRIED = {403, 408, 409, 429, 500, 502, 503, 504}


@given(st.integers(0, 1000))
def test_aep_policy_for_every_status(status: int) -> None:
    """Adobe's policy: 2xx delivered; 403, 408, 409, 429, 500, 502, 503, 504 retried; the rest
    dropped at once (every code, the 2xx boundaries included)."""
    if 200 <= status <= 299:
        expected = Verdict.DELIVERED
    elif status in AEP_RETRIED:
        expected = Verdict.TRANSIENT
    else:
        expected = Verdict.DROPPED
    assert classify_aep(status) is expected


@pytest.mark.parametrize(
    ("status", "verdict"),
    [(None, Verdict.TRANSIENT), (199, Verdict.DROPPED), (200, Verdict.DELIVERED),
     (299, Verdict.DELIVERED), (300, Verdict.DROPPED)],
)  # fmt: skip
def test_aep_policy_boundaries_and_connection_errors(status: int | None, verdict: Verdict) -> None:
    """A connection error (``None``) is retried like a retried status (assumed)."""
    assert classify_aep(status) is verdict


def test_aep_waits_are_adobes() -> None:
    """Two retries, after 15 s and 30 s, and the documented retried statuses."""
    assert AEP_RETRY_WAITS == (15.0, 30.0)
    assert AEP_RETRY_STATUSES == AEP_RETRIED
