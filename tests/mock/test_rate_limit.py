"""The per-user leaky bucket: a burst is cut at the bucket's size, then calls drain at the rate."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from support.mock import PAYLOAD, TOKEN, TOKEN_ID, TriggerActions, base_config

from mock_qualtrics import DEFAULTS, LiveMock, create_app, limits, load_toml
from mock_qualtrics.limits import LeakyBucket
from mock_qualtrics.state import current_state

TRIGGER = f"/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}"


def test_bucket_fills_to_capacity_then_refuses() -> None:
    """50 calls at one instant fit a bucket of 50; the 51st waits the 1/50 s it needs, as 1 s."""
    bucket = LeakyBucket(50, 50.0)
    assert [bucket.acquire("u", now=10.0) for _ in range(50)] == [0] * 50
    assert bucket.acquire("u", now=10.0) == 1
    assert bucket.acquire("other", now=10.0) == 0  # per user


def test_bucket_drains_at_the_rate() -> None:
    """After 0.1 s at 50/s five units have drained: five more calls fit, the sixth does not."""
    bucket = LeakyBucket(50, 50.0)
    for _ in range(50):
        bucket.acquire("u", now=0.0)
    assert [bucket.acquire("u", now=0.1) for _ in range(5)] == [0] * 5
    assert bucket.acquire("u", now=0.1) == 1


def test_retry_after_is_whole_seconds_until_the_call_fits() -> None:
    """3,000/min with a bucket of 1: a second call waits 1/50 s, announced as 1 s; at 1/min, 60 s."""
    slow = LeakyBucket(1, 1 / 60)
    assert slow.acquire("u", now=0.0) == 0
    assert slow.acquire("u", now=0.0) == 60
    assert slow.acquire("u", now=30.0) == 30
    assert slow.acquire("u", now=60.0) == 0


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Holds the rate limit's clock still, so a burst is one instant however slow the machine."""
    monkeypatch.setattr(limits, "monotonic", lambda: 1_000.0)


def test_burst_of_60_concurrent_calls_gets_exactly_10_429s(frozen_clock: None) -> None:
    """With default settings (bucket 50, 3,000/min) 60 calls at once over HTTP: 50 x 202, 10 x 429."""
    defaults = {k: DEFAULTS[k] for k in ("RATE_LIMIT", "RATE_WINDOW", "RATE_BURST")}
    with (
        LiveMock(base_config(**defaults)) as live,
        httpx.Client(base_url=live.url, timeout=30) as http,
    ):

        def call(_: int) -> httpx.Response:
            return http.post(TRIGGER, json=PAYLOAD, headers={"X-API-TOKEN": TOKEN})

        with ThreadPoolExecutor(max_workers=60) as pool:
            answers = list(pool.map(call, range(60)))
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [202] * 50 + [429] * 10
        refused = [a for a in answers if a.status_code == 429]
        assert {a.headers["Retry-After"] for a in refused} == {"1"}
        message = refused[0].json()["meta"]["error"]["errorMessage"]
        assert "at most 3,000 calls per 60 s per user" in message
        assert "bucket of 50 calls draining at 50/s" in message


def test_rate_burst_is_a_limit_in_the_config_file(tmp_path: Path, frozen_clock: None) -> None:
    """`[limits] rate_burst` sets the bucket's size; the 429 message then says it (the clock held
    still, so a slow machine cannot drain a slot between the calls)."""
    config = tmp_path / "mock.toml"
    config.write_text("[limits]\nrate_burst = 2\n", encoding="utf-8")
    loaded = load_toml(config)
    assert loaded["RATE_BURST"] == 2
    client = create_app(base_config(RATE_BURST=loaded["RATE_BURST"])).test_client()
    try:
        t = TriggerActions(client)
        assert [t.post().status_code for _ in range(3)] == [202, 202, 429]
        assert "bucket of 2 calls" in t.post().get_json()["meta"]["error"]["errorMessage"]
    finally:
        current_state(client.application).store.close()
