"""Every HTTP edge of delivery, against respx (no socket is opened)."""

from __future__ import annotations

import base64
import threading
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import respx
from support.delivery import REPORT_KEYS, deliver_fast, fast_backoff, outbox_of
from support.destination import TOKEN, TRIGGER, URL_TOKEN_ID
from support.profiles import profile, profiles

from connector.activation import Activation
from connector.delivery import (
    Backoff,
    DeliveryOptions,
    DeliveryReport,
    Outbox,
)
from connector.errors import AuthRejected, ContractViolation, StateError, UrlGuardError
from connector.profiles import ProfileLine
from connector.render import Renderer


def outbox_counts(activation: Activation, state_dir: Path) -> dict[str, int]:
    with outbox_of(activation, state_dir) as outbox:
        return outbox.counts()


def bodies(route: respx.Route) -> list[dict[str, Any]]:
    return [orjson.loads(call.request.content) for call in route.calls]


@pytest.fixture
def trigger(respx_mock: respx.MockRouter) -> respx.Route:
    return respx_mock.post(url__startswith=TRIGGER)


def test_delivers_with_auth_idempotency_key_and_json(
    activation: Activation, state_dir: Path, trigger: respx.Route
) -> None:
    """Each event is one POST with Basic auth, JSON, and its event id as Idempotency-Key."""
    trigger.mock(return_value=httpx.Response(202, json={"meta": {"requestId": "r"}}))
    items = profiles(5)
    report = deliver_fast(activation, state_dir, items)
    assert (report.delivered, report.pending, report.dead_lettered) == (5, 0, 0)
    assert trigger.call_count == 5
    renderer = Renderer(activation)
    expected_keys = {renderer.render(p).event_id for p in items}  # type: ignore[union-attr]
    request = trigger.calls.last.request
    credentials = base64.b64encode(f"cx-team@example.com:{TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {credentials}"
    assert request.headers["Content-Type"] == "application/json"
    assert {c.request.headers["Idempotency-Key"] for c in trigger.calls} == expected_keys
    assert report.ok
    assert list(report.as_dict()) == REPORT_KEYS
    assert report.as_dict()["activation_rate"] == 1.0


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 507])
def test_transient_statuses_are_retried(
    activation: Activation, state_dir: Path, trigger: respx.Route, status: int
) -> None:
    """A transient answer is retried with the same Idempotency-Key until a 2xx."""
    trigger.mock(side_effect=[httpx.Response(status), httpx.Response(status), httpx.Response(202)])
    report = deliver_fast(activation, state_dir, profiles(1))
    assert report.delivered == 1
    assert report.retries == 2
    assert trigger.call_count == 3
    assert len({c.request.headers["Idempotency-Key"] for c in trigger.calls}) == 1


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError, httpx.ReadTimeout, httpx.ConnectTimeout, httpx.RemoteProtocolError],
)
def test_network_errors_are_retried(
    activation: Activation, state_dir: Path, trigger: respx.Route, error: type[Exception]
) -> None:
    """Connection errors and timeouts are transient."""
    trigger.mock(side_effect=[error("boom"), httpx.Response(202)])
    report = deliver_fast(activation, state_dir, profiles(1))
    assert report.delivered == 1
    assert report.retries == 1


@pytest.mark.parametrize(
    "status", [301, 302, 307, 308, 400, 404, 405, 409, 413, 415, 422, 501, 505]
)
def test_permanent_statuses_are_dead_lettered_at_once(
    activation: Activation, state_dir: Path, trigger: respx.Route, status: int
) -> None:
    """A permanent answer is not retried; the event goes to the dead letters with its reason."""
    trigger.mock(return_value=httpx.Response(status, text=f"nope {TOKEN} {URL_TOKEN_ID}"))
    report = deliver_fast(activation, state_dir, profiles(1))
    assert trigger.call_count == 1
    assert (report.delivered, report.pending, report.dead_lettered) == (0, 0, 1)
    assert report.failed == {f"http-{status}": 1}
    assert not report.ok
    with outbox_of(activation, state_dir) as outbox:
        [letter] = outbox.dead_letters()
    assert letter.status_code == status
    assert letter.reason.startswith(f"http {status}")
    assert TOKEN not in letter.reason
    assert URL_TOKEN_ID not in letter.reason


def test_redirects_are_not_followed(
    activation: Activation, state_dir: Path, respx_mock: respx.MockRouter, trigger: respx.Route
) -> None:
    """A 3xx is a permanent failure; the Location is never requested."""
    elsewhere = respx_mock.post("https://evil.example/steal").mock(return_value=httpx.Response(202))
    trigger.mock(
        return_value=httpx.Response(307, headers={"Location": "https://evil.example/steal"})
    )
    report = deliver_fast(activation, state_dir, profiles(1))
    assert elsewhere.call_count == 0
    assert report.dead_lettered == 1
    assert "redirects are not followed" in dead_reason(activation, state_dir)


def dead_reason(activation: Activation, state_dir: Path) -> str:
    with outbox_of(activation, state_dir) as outbox:
        return outbox.dead_letters()[0].reason


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_stop_and_keep_every_event(
    activation: Activation, state_dir: Path, trigger: respx.Route, status: int
) -> None:
    """401/403 stop the run, raise AuthRejected, and keep every event read pending."""
    # The answer waits until the reader has taken all 30, so "every event" is all 30 whatever
    # the machine's load (profiles not yet read at the stop are simply left unread).
    read_all = threading.Event()

    def feed() -> Any:
        yield from profiles(30)
        read_all.set()

    def answer(request: httpx.Request) -> httpx.Response:
        read_all.wait(timeout=30)
        return httpx.Response(status)

    trigger.mock(side_effect=answer)
    with pytest.raises(AuthRejected) as caught:
        deliver_fast(activation, state_dir, feed(), max_in_flight=2)
    assert caught.value.status_code == status
    assert caught.value.exit_code == 1
    assert trigger.call_count <= 2
    assert outbox_counts(activation, state_dir)["pending"] == 30
    # The next run, with the credentials fixed, sends them all and nothing more.
    trigger.mock(side_effect=None, return_value=httpx.Response(202))
    report = deliver_fast(activation, state_dir, [])
    assert report.delivered == 30
    assert trigger.call_count <= 2 + 30


def test_retry_after_is_honoured(
    activation: Activation, state_dir: Path, trigger: respx.Route
) -> None:
    """Retry-After (seconds and HTTP date) reaches the backoff, which waits at least that."""
    seen: list[float | None] = []

    class Recording(Backoff):
        def delay(self, attempt: int, retry_after: float | None = None) -> float:
            seen.append(retry_after)
            return 0.001

    trigger.mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
            httpx.Response(503),
            httpx.Response(202),
        ]
    )
    report = deliver_fast(activation, state_dir, profiles(1), backoff=Recording())
    assert report.delivered == 1
    assert seen == [7.0, 0.0, None]


def test_retry_time_exhausted_keeps_the_event_and_its_followers(
    activation: Activation, state_dir: Path, trigger: respx.Route
) -> None:
    """Past --max-retry-time the event stays pending, and so do later events of its identity."""
    first = profile("a@example.com", at="2024-05-01T10:00:00Z")
    second = profile("a@example.com", at="2024-05-02T10:00:00Z")
    other = profile("b@example.com")
    trigger.mock(
        side_effect=lambda request: httpx.Response(
            503 if b"a@example.com" in request.content else 202
        )
    )
    report = deliver_fast(activation, state_dir, [first, second, other], max_retry_time=0.05)
    assert report.delivered == 1
    assert report.pending == 2
    assert report.failed == {"retry-time-exceeded": 1}
    assert not report.ok
    sent_a = [b for b in bodies(trigger) if b["identityMap"]["Email"][0]["id"] == "a@example.com"]
    times = {
        next(iter(b["segmentMembership"]["ups"].values()))["lastQualificationTime"] for b in sent_a
    }
    assert times == {"2024-05-01T10:00:00Z"}  # the second event was never sent ahead of the first


def test_order_is_kept_per_identity(
    activation: Activation, state_dir: Path, trigger: respx.Route
) -> None:
    """An identity's events go out in input order, even when the first one needs retries."""
    times = [f"2024-07-0{day}T10:00:00Z" for day in range(1, 6)]
    items = [profile("a@example.com", at=t) for t in times] + profiles(10)
    failures = {"left": 3}

    def answer(request: httpx.Request) -> httpx.Response:
        if b"2024-07-01" in request.content and failures["left"]:
            failures["left"] -= 1
            return httpx.Response(503)
        return httpx.Response(202)

    trigger.mock(side_effect=answer)
    report = deliver_fast(activation, state_dir, items, max_in_flight=4)
    assert report.delivered == 15
    sent = [
        next(iter(b["segmentMembership"]["ups"].values()))["lastQualificationTime"]
        for b in bodies(trigger)
        if b["identityMap"]["Email"][0]["id"] == "a@example.com"
    ]
    assert sent == [times[0]] * 4 + times[1:]


def test_rerunning_delivered_input_sends_nothing(
    activation: Activation, state_dir: Path, trigger: respx.Route
) -> None:
    """The same input twice: the second run skips every event as a duplicate and is ok."""
    trigger.mock(return_value=httpx.Response(202))
    items = profiles(8)
    deliver_fast(activation, state_dir, items)
    report = deliver_fast(activation, state_dir, items)
    assert trigger.call_count == 8
    assert report.duplicates_skipped == 8
    assert report.delivered == 0
    assert report.ok
    assert report.skip_rate == 0.0  # duplicates are not skips


def test_same_event_twice_in_one_input_is_sent_once(
    activation: Activation, state_dir: Path, trigger: respx.Route
) -> None:
    """One qualification is never surveyed twice, even when the export repeats it."""
    trigger.mock(return_value=httpx.Response(202))
    report = deliver_fast(activation, state_dir, [profile("a@example.com")] * 3)
    assert trigger.call_count == 1
    assert report.duplicates_skipped == 2


def test_exclusions_failures_and_skip_rate(
    activation: Activation,
    state_dir: Path,
    trigger: respx.Route,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Excluded profiles are counted by reason; a contract violation is failed and never sent."""
    trigger.mock(return_value=httpx.Response(202))
    original = Renderer.render

    def render(self: Renderer, item: Any, *, source: str = "") -> Any:
        if isinstance(item, dict) and item.get("poison"):
            raise ContractViolation("qualtrics-event", [], source=source)
        return original(self, item, source=source)

    monkeypatch.setattr(Renderer, "render", render)
    hashed = profile("a" * 64)
    no_identity = profile("c@example.com")
    no_identity["identityMap"] = {"Other": [{"id": "x"}]}
    poison = {**profile("p@example.com"), "poison": True}
    unchanged = profile("e@example.com", status="existing")
    items = [
        ProfileLine(1, profile=profile("ok@example.com")),
        ProfileLine(2, error="not JSON"),
        hashed,
        no_identity,
        poison,
        unchanged,
    ]
    alerts: list[str] = []
    report = deliver_fast(activation, state_dir, items, on_alert=lambda a: alerts.append(a.kind))
    assert trigger.call_count == 1
    data = report.as_dict()
    assert data["profiles_received"] == 6
    assert data["identities_activated"] == 1
    assert data["excluded"] == {"hashed-email": 1, "missing-identity": 1}
    assert data["input_errors"] == 1
    assert data["failed"] == {"contract-violation": 1}
    assert report.skip_rate == pytest.approx(2 / 6)
    assert alerts == ["start", "failure"]  # 50% is not over the default alert threshold


def test_max_skip_rate_breach_fails_the_run(
    activation: Activation, state_dir: Path, trigger: respx.Route
) -> None:
    """With max_skip_rate the breach is a failure; without it only an alert."""
    trigger.mock(return_value=httpx.Response(202))
    items: list[Any] = [profile("a" * 64), profile("b" * 64), profile("ok@example.com")]
    report = deliver_fast(activation, state_dir / "1", items)
    assert report.ok
    assert [a.kind for a in report.alerts] == ["start", "skip-rate", "success"]
    strict = deliver_fast(activation, state_dir / "2", items, max_skip_rate=0.5)
    assert not strict.ok
    assert [a.kind for a in strict.alerts] == ["start", "skip-rate", "failure"]


def test_locked_state_dir_is_refused(activation: Activation, state_dir: Path) -> None:
    """A second sender on the same state directory gets StateError (exit 2)."""
    with Outbox(state_dir, "x"), pytest.raises(StateError):
        deliver_fast(activation, state_dir, profiles(1))


def test_url_guard_applies_to_overrides(activation: Activation, state_dir: Path) -> None:
    """An overriding URL passes the same guard."""
    with pytest.raises(UrlGuardError):
        deliver_fast(activation, state_dir, [], url="http://127.0.0.1:9/x")
    with pytest.raises(UrlGuardError):
        deliver_fast(
            activation, state_dir, [], url="https://evil.example/x", allow_http_loopback=True
        )


def test_usable_from_a_worker_thread(
    activation: Activation, state_dir: Path, trigger: respx.Route
) -> None:
    """deliver() needs no main thread (certification runs it beside an embedded mock)."""
    trigger.mock(return_value=httpx.Response(202))
    results: list[DeliveryReport] = []
    thread = threading.Thread(
        target=lambda: results.append(deliver_fast(activation, state_dir, profiles(20)))
    )
    thread.start()
    thread.join(timeout=30)
    assert results[0].delivered == 20


def test_response_reads_are_capped(
    activation: Activation, state_dir: Path, trigger: respx.Route
) -> None:
    """A huge answer is read only up to the cap and does not break delivery."""
    from connector.delivery.auth import QualtricsBasicAuth
    from connector.delivery.client import MAX_RESPONSE_BYTES, make_client, post_event

    trigger.mock(return_value=httpx.Response(202, content=b"x" * (MAX_RESPONSE_BYTES * 4)))
    with make_client(QualtricsBasicAuth("u", TOKEN)) as client:
        attempt = post_event(client, TRIGGER, b"{}", "k")
    assert attempt.status_code == 202
    assert len(attempt.body) == MAX_RESPONSE_BYTES


def test_no_secret_in_reprs_reports_or_the_outbox(
    activation: Activation, state_dir: Path, trigger: respx.Route
) -> None:
    """Neither the token nor the urlTokenId appears in any repr, report, alert or the outbox file."""
    from connector.delivery import QualtricsBasicAuth, Sender

    trigger.mock(side_effect=[httpx.Response(503), httpx.Response(400)] + [httpx.Response(202)] * 9)
    sender = Sender(
        activation,
        token=TOKEN,
        state_dir=state_dir,
        options=DeliveryOptions(backoff=fast_backoff(), rate_limit=None),
    )
    sender.run(profiles(10))
    texts = [
        repr(sender),
        repr(sender.report),
        repr(QualtricsBasicAuth("u", TOKEN)),
        orjson.dumps(sender.report.as_dict()).decode(),
        sender.report.summary(),
    ]
    for text in texts:
        assert TOKEN not in text
        assert URL_TOKEN_ID not in text
    state_files = list(state_dir.iterdir())
    assert any(path.name.endswith(".sqlite") for path in state_files), state_files
    for path in state_files:
        data = path.read_bytes()
        assert TOKEN.encode() not in data
        assert URL_TOKEN_ID.encode() not in data
