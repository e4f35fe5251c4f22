"""``probe_destination`` (what ``test-destination`` prints) and the checks before any input is
read: the URL guard, then the token, for the probe and the sender alike."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from support.destination import TOKEN, TRIGGER, URL_TOKEN_ID
from support.profiles import profile

from connector.activation import Activation
from connector.delivery.probe import probe_destination
from connector.delivery.sender import Sender
from connector.errors import SecretError, UrlGuardError


def _plain_http(activation: Activation) -> Activation:
    url = f"http://127.0.0.1:9/t?urlTokenId={URL_TOKEN_ID}"
    return replace(activation, destination=replace(activation.destination, url=url))


def _never_read() -> Iterator[tuple[str, Any]]:
    raise AssertionError("inputs were read before the URL and the token were checked")
    yield  # pragma: no cover - makes this a generator


def test_a_probe_reports_each_call_and_what_was_not_sent(
    activation: Activation, monkeypatch: pytest.MonkeyPatch, respx_mock: respx.MockRouter
) -> None:
    """One call per sendable profile, a note for each other one; a 401 is a failure line."""
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN)
    respx_mock.post(url__startswith=TRIGGER).mock(
        side_effect=[httpx.Response(202), httpx.Response(401, text=f"no {TOKEN}")]
    )
    notes: list[str] = []
    inputs = [
        ("line 1", profile("a@example.com")),
        ("line 2", profile("b" * 64)),
        ("line 3", profile("c@example.com")),
    ]
    result = probe_destination(activation, inputs, on_note=notes.append)
    assert [r["httpCalls"][0]["response"]["code"] for r in result.results] == [202, 401]
    assert result.input_profiles == [p for _, p in inputs]
    assert notes[0].startswith("line 2: ")
    assert "hashed-email" in notes[0]
    assert result.failures == notes[1:]
    assert result.failures[0].startswith("line 3: ")
    assert "http 401 Unauthorized: wrong user name or API token" in result.failures[0]
    assert not result.ok
    assert result.summary() == f"1 of 2 calls failed; first: {result.failures[0]}"
    assert TOKEN not in repr(result.document())


def test_a_probe_that_sent_nothing_is_not_ok(
    activation: Activation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only excluded profiles: no call, not ok, and the summary says nothing was sent."""
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN)
    result = probe_destination(activation, [("sample 1", profile("b" * 64))])
    assert (result.results, result.ok) == ([], False)
    assert result.summary() == "no profile was sent (see the lines above)"


def test_the_probe_checks_the_url_then_the_token_before_reading(
    activation: Activation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused URL wins over an unset token; neither reads an input."""
    monkeypatch.delenv("QUALTRICS_API_TOKEN", raising=False)
    with pytest.raises(UrlGuardError) as refused:
        probe_destination(_plain_http(activation), _never_read())
    assert URL_TOKEN_ID not in str(refused.value)
    with pytest.raises(SecretError, match="QUALTRICS_API_TOKEN"):
        probe_destination(activation, _never_read())


def test_the_sender_checks_the_url_then_reads_the_token_itself(
    activation: Activation,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    respx_mock: respx.MockRouter,
) -> None:
    """Without ``token=`` the sender reads the activation's variable, after the URL guard."""
    monkeypatch.delenv("QUALTRICS_API_TOKEN", raising=False)
    with pytest.raises(UrlGuardError):
        Sender(_plain_http(activation), state_dir=tmp_path)
    with pytest.raises(SecretError, match="QUALTRICS_API_TOKEN is unset"):
        Sender(activation, state_dir=tmp_path)
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN)
    route = respx_mock.post(url__startswith=TRIGGER).mock(return_value=httpx.Response(202))
    report = Sender(activation, state_dir=tmp_path).run([profile("a@example.com")])
    assert report.identities_activated == 1
    sent = route.calls.last.request.headers["Authorization"]
    pair = f"{activation.destination.username}:{TOKEN}".encode()
    assert sent == f"Basic {base64.b64encode(pair).decode()}"
