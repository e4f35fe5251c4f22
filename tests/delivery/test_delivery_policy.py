"""Status classes, full-jitter backoff bounds and Retry-After parsing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from connector.delivery.policy import Backoff, Verdict, classify, classify_aep, parse_retry_after

TRANSIENT = [408, 429, 500, 502, 503, 504, 507, 520, 599]
PERMANENT = [300, 301, 302, 303, 304, 307, 308, 400, 404, 405, 409, 410, 413, 415, 422, 501, 505]


@pytest.mark.parametrize("code", [200, 201, 202, 204, 299])
def test_2xx_is_delivered(code: int) -> None:
    """Every 2xx means delivered."""
    assert classify(code) is Verdict.DELIVERED


@pytest.mark.parametrize("code", TRANSIENT)
def test_transient_statuses(code: int) -> None:
    """408, 429 and 5xx other than 501/505 are retried."""
    assert classify(code) is Verdict.TRANSIENT


@pytest.mark.parametrize("code", PERMANENT)
def test_permanent_statuses(code: int) -> None:
    """3xx, 501, 505 and other 4xx are dead-lettered at once."""
    assert classify(code) is Verdict.PERMANENT


@pytest.mark.parametrize("code", [401, 403])
def test_auth_statuses_stop(code: int) -> None:
    """401 and 403 stop the run."""
    assert classify(code) is Verdict.AUTH


@given(st.integers(100, 599))
def test_every_status_has_exactly_the_documented_class(code: int) -> None:
    """The classification matches the README's status classes for every code."""
    verdict = classify(code)
    if 200 <= code < 300:
        assert verdict is Verdict.DELIVERED
    elif code in (401, 403):
        assert verdict is Verdict.AUTH
    elif code in (408, 429) or (500 <= code < 600 and code not in (501, 505)):
        assert verdict is Verdict.TRANSIENT
    else:
        assert verdict is Verdict.PERMANENT


@given(st.integers(1, 200), st.integers(0, 2**32))
def test_backoff_is_full_jitter_under_the_cap(attempt: int, seed: int) -> None:
    """The delay lies in [0, min(60, 0.5 * 2**(n-1))]."""
    backoff = Backoff(rng=random.Random(seed))
    delay = backoff.delay(attempt)
    assert 0.0 <= delay <= min(60.0, 0.5 * 2 ** (attempt - 1))


@given(st.integers(1, 200), st.floats(0, 10**7, allow_nan=False), st.integers(0, 2**32))
def test_retry_after_wins_and_is_clamped(attempt: int, retry_after: float, seed: int) -> None:
    """With Retry-After: at least it (and the backoff), clamped to [1 s, 24 h]."""
    backoff = Backoff(rng=random.Random(seed))
    delay = backoff.delay(attempt, retry_after)
    assert 1.0 <= delay <= 86_400.0
    assert delay >= min(retry_after, 86_400.0)


def test_a_retry_after_of_two_days_waits_24_hours() -> None:
    """The upper clamp is a day (trusted senders' rule), not an hour."""
    assert Backoff().delay(1, 2 * 86_400.0) == 86_400.0
    assert Backoff().delay(1, 7_200.0) == 7_200.0


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (202, Verdict.DELIVERED),
        *[(code, Verdict.TRANSIENT) for code in (403, 408, 409, 429, 500, 502, 503, 504)],
        *[(code, Verdict.DROPPED) for code in (400, 401, 404, 413, 501, 505, 301)],
        (None, Verdict.TRANSIENT),
    ],
)
def test_aep_policy_retries_only_adobes_statuses(status: int | None, verdict: Verdict) -> None:
    """Adobe retries 403, 408, 409, 429, 500, 502, 503 and 504; anything else is dropped."""
    assert classify_aep(status) is verdict


def test_backoff_spreads_out() -> None:
    """Full jitter: delays for one attempt differ between draws."""
    backoff = Backoff(rng=random.Random(7))
    assert len({backoff.delay(5) for _ in range(20)}) > 10


@given(st.integers(0, 10**9))
def test_retry_after_seconds(seconds: int) -> None:
    """Delta-seconds parse to themselves, up to the 24 h clamp (longer waits are the clamp)."""
    expected = float(min(seconds, 86_400))
    assert parse_retry_after(str(seconds)) == expected
    assert parse_retry_after(f"  {seconds} ") == expected


@given(st.integers(0, 10**6))
def test_retry_after_http_date(seconds: int) -> None:
    """An HTTP date parses to the seconds until it, up to the 24 h clamp."""
    now = datetime(2025, 1, 1, tzinfo=UTC)
    value = format_datetime(now + timedelta(seconds=seconds), usegmt=True)
    assert parse_retry_after(value, now=now) == pytest.approx(min(seconds, 86_400))


def test_retry_after_date_in_the_past_is_zero() -> None:
    """A date already past means no extra wait."""
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "Mon, 99 Foo", "١٢"])
def test_retry_after_garbage_is_ignored(value: str | None) -> None:
    """Anything unparseable gives None (the backoff alone applies)."""
    assert parse_retry_after(value) is None


@pytest.mark.parametrize(
    "digits", ["9" * 400, "1" + "0" * 5000, "0" * 300 + "86401", "00000000000000000007"]
)
def test_retry_after_of_any_length_is_the_clamp_or_itself(digits: str) -> None:
    """400 digits overflowed ``float(int(...))`` and 5,000 are past ``int()``'s own limit: both
    are the 24 h clamp, and leading zeros do not count as length."""
    expected = min(float(digits.lstrip("0") or "0"), 86_400.0)
    assert parse_retry_after(digits) == expected


@pytest.mark.parametrize(
    "value",
    [
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "Mon, 01 Jan 0001 00:00:00 GMT",
        "Mon, 01 Jan 99999 00:00:00 GMT",
        "Mon, 01 Jan 2025 99999999999999999999:00:00 GMT",
        "Mon, 01 Jan 2025 00:00:00 +99999999999999999999",
        "Mon, 01 Jan 2025 00:00:00 " + "9" * 400,
        "nan",
        "inf",
        "-1e400",
        "٣٠",
        "\x00" * 50,
        "Mon, " * 1000,
    ],
)
def test_retry_after_hostile_values_never_raise(value: str) -> None:
    """Huge and tiny dates, absurd zones, nan, inf and unicode digits: no hint or a clamped wait."""
    parsed = parse_retry_after(value, now=datetime(2025, 1, 1, tzinfo=UTC))
    assert parsed is None or 0.0 <= parsed <= 86_400.0


def _http_dates() -> st.SearchStrategy[str]:
    """HTTP-date-shaped text with any numbers in it, in range or not."""
    return st.builds(
        "{}, {:02d} {} {} {}:{}:{} {}".format,
        st.sampled_from(["Mon", "Tue", "Sun", "Xyz"]),
        st.integers(0, 99),
        st.sampled_from(["Jan", "Feb", "Dec", "Foo"]),
        st.integers(0, 10**30),
        st.integers(0, 10**20),
        st.integers(0, 99),
        st.integers(0, 99),
        st.sampled_from(["GMT", "UTC", "+0000", "-2359", "+99999999", "EST", ""]),
    )


_HOSTILE = st.one_of(
    st.text(max_size=40),
    st.integers(0, 10**600).map(str),
    st.integers(-(10**400), -1).map(str),
    st.floats().map(str),
    st.text(st.characters(categories=["Nd"]), min_size=1, max_size=30),
    st.datetimes(timezones=st.just(UTC)).map(lambda moment: format_datetime(moment, usegmt=True)),
    _http_dates(),
)


@given(_HOSTILE)
def test_retry_after_never_raises(value: str) -> None:
    """Whatever a server sends, parsing never raises and stays within [0, 24 h].

    The strategy reaches what broke the old parser (hundreds of digits, far-off dates, nan,
    unicode digits), not only short text."""
    parsed = parse_retry_after(value)
    assert parsed is None or 0.0 <= parsed <= 86_400.0
    if parsed == 86_400.0:
        event("clamped")
    elif parsed is None:
        event("no hint")
    else:
        event("a wait")
