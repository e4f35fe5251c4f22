"""The mock's limits with exact oracles: nesting depth, JSON content types, runs per UTC day.

Qualtrics accepts JSON bodies only (``application/json`` or a ``+json`` type) and at most
300,000 runs a day (https://www.qualtrics.com/support/survey-platform/actions-module/json-events/);
the nesting limit is the mock's assumption, passed in here.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from mock_qualtrics import limits
from mock_qualtrics.limits import (
    DailyCounter,
    LeakyBucket,
    json_depth_exceeds,
)

DAY = 86_400


def is_json_content_type(value: str | None) -> bool:
    """The trigger's rule: Werkzeug's ``Request.is_json`` for this Content-Type."""
    headers = {} if value is None else {"Content-Type": value}
    return bool(Request(EnvironBuilder(method="POST", headers=headers).get_environ()).is_json)


@given(st.integers(0, 80), st.integers(0, 80))
def test_k_nested_brackets_exceed_iff_depth_over_limit(depth: int, limit: int) -> None:
    """``[[[...]]]`` (or ``{"a":{...}}``) of depth d is refused iff d > limit, at the boundary too."""
    arrays = b"[" * depth + b"]" * depth
    objects = b'{"a":' * depth + b"1" + b"}" * depth
    assert json_depth_exceeds(arrays, limit) is (depth > limit)
    assert json_depth_exceeds(objects, limit) is (depth > limit)


@given(st.integers(1, 200), st.integers(2, 40))
def test_wide_shallow_bodies_pass_however_many_brackets(width: int, limit: int) -> None:
    """``[[],[],...]`` has depth 2 whatever its width: more brackets than the limit is fine."""
    body = b"[" + b",".join([b"[]"] * width) + b"]"
    assert json_depth_exceeds(body, limit) is False


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


TRICKY = st.text(alphabet='[]{}"\\ab', max_size=8)
DOCUMENTS = st.recursive(
    st.none() | st.integers() | TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY, inner, max_size=3),
    max_leaves=12,
)


@given(DOCUMENTS, st.integers(0, 8))
def test_depth_of_any_document_with_brackets_and_quotes_in_strings(doc: Any, limit: int) -> None:
    """Brackets, escaped quotes and backslashes inside strings never count: exact depth."""
    body = json.dumps(doc).encode()
    assert json_depth_exceeds(body, limit) is (_depth(doc) > limit)


@pytest.mark.parametrize(
    ("body", "limit", "exceeds"),
    [
        (b'["\\"[[[[["]', 1, False),  # an escaped quote does not end the string
        (b'["\\\\",[[1]]]', 2, True),  # an escaped backslash does: the brackets after it count
        (b'["\\\\",[[1]]]', 3, False),
        (b'"[[[[[[[["', 1, False),
        (b"[[],[[]]]", 2, True),  # a closed bracket gives back exactly one level
        (b"[[],[[]]]", 3, False),
    ],
)
def test_escapes_inside_strings(body: bytes, limit: int, exceeds: bool) -> None:
    """The scanner follows JSON's escapes exactly."""
    assert json_depth_exceeds(body, limit) is exceeds


@pytest.mark.parametrize(
    "value",
    [
        "application/json",
        "Application/JSON",
        "application/json; charset=utf-8",
        "  application/json ;charset=UTF-8",
        "application/x+json",
        "application/vnd.api+json",
    ],
)
def test_json_content_types(value: str) -> None:
    """application/json or application/<x>+json, any case, parameters allowed."""
    assert is_json_content_type(value)


@pytest.mark.parametrize(
    "value",
    [None, "", "text/json", "text/x+json", "application/jsonx", "application/x-www-form-urlencoded",
     "application/json-seq", "json", "multipart/form-data; boundary=application/json"],
)  # fmt: skip
def test_other_content_types(value: str | None) -> None:
    """Anything else is not JSON."""
    assert not is_json_content_type(value)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The wall clock DailyCounter reads, held still at 01:00:00.5 UTC on day 20,000."""
    fake = Clock(20_000 * DAY + 3600.5)
    monkeypatch.setattr(limits.time, "time", fake)
    return fake


def test_daily_limit_then_seconds_to_utc_midnight(clock: Clock) -> None:
    """``limit`` runs pass; the next is told the whole seconds left in the UTC day."""
    counter = DailyCounter(3)
    assert [counter.acquire() for _ in range(3)] == [0, 0, 0]
    assert counter.acquire() == DAY - 3600  # ceil(82,799.5)
    clock.now = 20_001 * DAY - 0.25
    assert counter.acquire() == 1  # never 0 while refused


def test_the_count_rolls_over_at_utc_midnight(clock: Clock) -> None:
    """A new UTC day starts from zero."""
    counter = DailyCounter(1)
    assert counter.acquire() == 0
    assert counter.acquire() > 0
    clock.now = 20_001 * DAY
    assert counter.acquire() == 0
    assert counter.acquire() == DAY


def test_start_counts_runs_already_made_today(clock: Clock) -> None:
    """A counter restored with ``start`` runs has only ``limit - start`` left."""
    counter = DailyCounter(5, start=4)
    assert counter.acquire() == 0
    assert counter.acquire() > 0


def test_clear_resets_the_count(clock: Clock) -> None:
    """``clear`` gives the whole day's allowance back."""
    counter = DailyCounter(1)
    counter.acquire()
    counter.clear()
    assert counter.acquire() == 0


@given(st.integers(1, 60), st.integers(1, 100))
def test_a_bucket_takes_exactly_capacity_calls_at_once(capacity: int, rate: int) -> None:
    """At one instant, ``capacity`` calls fit; the next waits ceil(1 / rate) s, at least 1."""
    bucket = LeakyBucket(capacity, float(rate))
    assert [bucket.acquire("u", now=5.0) for _ in range(capacity)] == [0] * capacity
    assert bucket.acquire("u", now=5.0) == max(1, math.ceil(1 / rate))


@given(st.integers(1, 50), st.integers(1, 60), st.integers(0, 40))
def test_the_bucket_drains_at_rate_per_second(capacity: int, rate: int, seconds: int) -> None:
    """A full bucket, ``seconds`` later, holds exactly min(capacity, rate * seconds) more calls."""
    bucket = LeakyBucket(capacity, float(rate))
    for _ in range(capacity):
        bucket.acquire("u", now=0.0)
    free = min(capacity, rate * seconds)
    assert [bucket.acquire("u", now=float(seconds)) for _ in range(free)] == [0] * free
    assert bucket.acquire("u", now=float(seconds)) >= 1


def test_a_refused_call_does_not_fill_the_bucket() -> None:
    """Refusals are not counted: once drained by one call's worth, one call fits again."""
    bucket = LeakyBucket(2, 0.5)
    bucket.acquire("u", now=0.0)
    bucket.acquire("u", now=0.0)
    assert [bucket.acquire("u", now=0.0) for _ in range(5)] == [2] * 5
    assert bucket.acquire("u", now=2.0) == 0
    assert bucket.acquire("u", now=2.0) == 2


def test_retry_after_counts_the_overflow() -> None:
    """Retry-After is the whole seconds until the level is one below capacity: ceil, >= 1."""
    bucket = LeakyBucket(1, 0.25)
    bucket.acquire("u", now=0.0)
    assert bucket.acquire("u", now=0.0) == 4
    assert bucket.acquire("u", now=3.5) == 1  # 0.125 units over: 0.5 s, rounded up to 1


@pytest.mark.parametrize(("capacity", "rate"), [(5, 0.0), (0, 50.0)])
def test_a_bucket_that_never_drains_or_never_fits_says_a_day(capacity: int, rate: float) -> None:
    """A zero rate (once full) or zero capacity: Retry-After 86,400, a day."""
    bucket = LeakyBucket(capacity, rate)
    for _ in range(capacity):
        assert bucket.acquire("u", now=0.0) == 0
    assert bucket.acquire("u", now=1000.0) == 86_400


def test_buckets_are_per_key_and_clear_empties_them() -> None:
    """One user's bucket never fills another's; ``clear`` empties all."""
    bucket = LeakyBucket(1, 1.0)
    assert bucket.acquire("a", now=0.0) == 0
    assert bucket.acquire("b", now=0.0) == 0
    assert bucket.acquire("a", now=0.0) == 1
    bucket.clear()
    assert bucket.acquire("a", now=0.0) == 0


def test_the_module_clock_is_read_without_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``now``, the bucket reads ``limits.monotonic`` (which a test can hold still)."""
    monkeypatch.setattr(limits, "monotonic", lambda: 100.0)
    bucket = LeakyBucket(1, 1.0)
    assert bucket.acquire("u") == 0
    assert bucket.acquire("u") == 1
    monkeypatch.setattr(limits, "monotonic", lambda: 101.0)
    assert bucket.acquire("u") == 0
