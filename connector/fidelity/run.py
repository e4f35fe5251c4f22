"""Sending the probes: each to the real trigger and to the mock, and judging the two answers.

The real endpoint is reached with the connector's own client (:func:`connector.delivery.client.
make_client`: its timeouts, no redirects, no proxy from the environment, and whatever TLS and proxy
options it is given), so a probe meets Qualtrics exactly as ``send`` would. Every probe passes its
credentials per request (none, a made-up one, or the real :class:`QualtricsBasicAuth`), never in
the URL. A probe whose request gets no answer is an ``error``, not a difference: nothing was
observed. The burst is sent over up to 10 connections and stops at the first 429.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from ..delivery.auth import QualtricsBasicAuth
from ..delivery.client import MAX_RESPONSE_BYTES
from ..delivery.why import transport_reason
from .compare import Answer, differences, read_answer, summary
from .probes import Probe

__all__ = ["Outcome", "Target", "Unreachable", "run_probes", "with_url_token"]

Verdict = Literal["matches", "differs", "error"]
#: A response's status, headers (case-insensitive) and body.
_Raw = tuple[int, httpx.Headers, bytes]
#: Connections the burst uses at once.
BURST_CONNECTIONS: Final = 10


class Unreachable(Exception):
    """The real endpoint could not be reached at all (the first request never left)."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where probes go: a trigger URL, the client to use, and (optionally) the credentials."""

    url: str
    client: httpx.Client
    auth: QualtricsBasicAuth | None = field(default=None, repr=False)
    username: str | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One probe's result: both answers, the verdict and the differences."""

    probe: Probe
    observed: Answer | None
    mock: Answer | None
    verdict: Verdict
    differences: tuple[str, ...] = ()
    error: str | None = None

    def line(self) -> str:
        """``<id>: matches`` / ``<id>: differs: Qualtrics 403, mock 401`` / ``<id>: error: ...``."""
        if self.verdict == "matches":
            return f"{self.probe.id}: matches"
        if self.verdict == "differs" and self.observed is not None and self.mock is not None:
            return f"{self.probe.id}: differs: {summary(self.observed, self.mock, list(self.differences))}"
        return f"{self.probe.id}: error: {self.error}"


def with_url_token(url: str, token: str) -> str:
    """``url`` with its ``urlTokenId`` replaced by ``token``."""
    parts = urlsplit(url)
    query = [
        (key, token if key == "urlTokenId" else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _send_once(target: Target, probe: Probe, url: str) -> _Raw:
    headers = {"Content-Type": probe.content_type}
    auth: httpx.Auth | None = None
    if probe.credentials == "valid":
        auth = target.auth
    else:
        value = probe.authorization(target.username)
        if value is not None:
            headers["Authorization"] = value
    with target.client.stream("POST", url, content=probe.body, headers=headers, auth=auth) as r:
        received = bytearray()
        for chunk in r.iter_bytes():
            received += chunk
            if len(received) >= MAX_RESPONSE_BYTES:
                del received[MAX_RESPONSE_BYTES:]
                break
        return r.status_code, r.headers, bytes(received)


def _burst(target: Target, probe: Probe, url: str) -> Answer:
    """Up to ``probe.count`` requests, stopped at the first 429; the last answer and the count of
    2xx answers before it."""
    stop = threading.Event()
    lock = threading.Lock()
    accepted = 0
    last: _Raw | None = None
    limited: _Raw | None = None

    def one(_: int) -> None:
        nonlocal accepted, last, limited
        if stop.is_set():
            return
        answer = _send_once(target, probe, url)
        with lock:
            if answer[0] == 429:
                stop.set()
                limited = limited or answer
            elif 200 <= answer[0] < 300 and not stop.is_set():
                accepted += 1
            last = answer

    with ThreadPoolExecutor(BURST_CONNECTIONS, thread_name_prefix="qharness-burst") as pool:
        for done in pool.map(one, range(probe.count)):
            del done
    final = limited or last
    if final is None:  # pragma: no cover - count >= 1, and every request answers or raises
        raise httpx.TransportError("the burst sent nothing")
    return read_answer(*final, target.secrets, accepted=accepted)


def _ask(target: Target, probe: Probe, unknown_token: str) -> Answer:
    url = with_url_token(target.url, unknown_token) if probe.unknown_url_token else target.url
    if probe.count > 1:
        return _burst(target, probe, url)
    return read_answer(*_send_once(target, probe, url), target.secrets)


def _failure(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TransportError):
        return transport_reason(exc)
    return type(exc).__name__


def run_probes(
    probes: list[Probe],
    real: Target,
    mock: Target,
    unknown_token: str,
    *,
    on_outcome: Callable[[Outcome], None] = lambda outcome: None,
) -> Iterator[Outcome]:
    """Send each probe to ``real`` then ``mock``; yield (and pass to ``on_outcome``) each result.

    :class:`Unreachable` when the very first request to ``real`` cannot connect: then nothing
    was observed and the command is a usage error, not a list of errors.
    """
    for index, probe in enumerate(probes):
        try:
            observed = _ask(real, probe, unknown_token)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            if index == 0:
                raise Unreachable(transport_reason(exc)) from None
            outcome = Outcome(probe, None, None, "error", error=f"Qualtrics: {_failure(exc)}")
            on_outcome(outcome)
            yield outcome
            continue
        except httpx.HTTPError as exc:
            outcome = Outcome(probe, None, None, "error", error=f"Qualtrics: {_failure(exc)}")
            on_outcome(outcome)
            yield outcome
            continue
        try:
            answer = _ask(mock, probe, unknown_token)
        except httpx.HTTPError as exc:
            outcome = Outcome(probe, observed, None, "error", error=f"mock: {_failure(exc)}")
        else:
            found = differences(observed, answer)
            verdict: Verdict = "differs" if found else "matches"
            outcome = Outcome(probe, observed, answer, verdict, tuple(found))
        on_outcome(outcome)
        yield outcome
