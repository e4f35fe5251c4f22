"""Whatever a server answers, an attempt is an ``Attempt``, never an exception, and ``send`` says
what happened in one line.

Each server is a real socket on 127.0.0.1 that reads the request, writes fixed bytes and closes:
lying or unreadable ``Content-Length``, a body that does not decode as its ``Content-Encoding``
says, 400-digit ``Retry-After``, a megabyte of body, bytes that are not HTTP at all.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from support.activations import activation_with_url
from support.destination import TOKEN, URL_TOKEN_ID
from support.profiles import jsonl, profiles

from connector.cli import main
from connector.delivery.auth import QualtricsBasicAuth
from connector.delivery.client import MAX_RESPONSE_BYTES, Attempt, make_client, post_event
from connector.delivery.policy import parse_retry_after

HUGE_RETRY_AFTER = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: " + b"9" * 400


class RawServer:
    """Answers every connection with ``answer``, then closes it."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            with conn:
                try:
                    conn.settimeout(5)
                    conn.recv(65536)
                    conn.sendall(self.answer)
                    conn.shutdown(socket.SHUT_WR)
                except OSError:
                    continue

    def close(self) -> None:
        self.stop.set()
        self._thread.join()
        self._listener.close()


@pytest.fixture
def serve() -> Iterator[type[RawServer]]:
    started: list[RawServer] = []

    class Tracked(RawServer):
        def __init__(self, answer: bytes) -> None:
            super().__init__(answer)
            started.append(self)

    yield Tracked
    for server in started:
        server.close()


def _attempt(server: RawServer) -> Attempt:
    with make_client(QualtricsBasicAuth("u", "t")) as client:
        return post_event(client, f"http://127.0.0.1:{server.port}/t", b"{}", "k", deadline=5)


@pytest.mark.parametrize(
    ("answer", "status", "body"),
    [
        # the status line is the answer, whatever happens to the body after it
        (b"HTTP/1.1 202 Accepted\r\nContent-Length: 100\r\n\r\nshort", 202, b"short"),
        (
            b"HTTP/1.1 202 Accepted\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nxxxxx",
            202,
            None,
        ),
        (b"HTTP/1.1 202 Accepted\r\nContent-Encoding: br\r\n\r\n\x00\x01\x02", 202, None),
        (b"HTTP/1.1 202 Accepted\r\n\r\n" + b"x" * (1 << 20), 202, b"x" * MAX_RESPONSE_BYTES),
        (HUGE_RETRY_AFTER + b"\r\nContent-Length: 0\r\n\r\n", 503, b""),
        (b"HTTP/1.1 503 Busy\r\nRetry-After: \xff\xfe\r\nContent-Length: 0\r\n\r\n", 503, b""),
        # no usable status line or framing: no answer (the outcome is unknown)
        (b"HTTP/1.1 202 Accepted\r\nContent-Length: abc\r\n\r\n", None, b""),
        (b"HTTP/1.1 202 Accepted\r\nContent-Length: -1\r\n\r\n", None, b""),
        (b"HTTP/1.1 202 Accepted\r\nContent-Length: 99999999999999999999999\r\n\r\n", None, b""),
        (b"HTTP/1.1 202 Accepted\r\nX-Long: " + b"a" * 200_000 + b"\r\n\r\n", None, b""),
        (b"HTTP/1.1 999999999999 Odd\r\n\r\n", None, b""),
        (b"hello, this is not HTTP\r\n\r\n", None, b""),
        (b"", None, b""),
    ],
    ids=[
        "short-body",
        "bad-gzip",
        "bad-brotli",
        "a-megabyte",
        "400-digit-retry-after",
        "binary-retry-after",
        "content-length-abc",
        "content-length-negative",
        "content-length-huge",
        "200-kb-header",
        "status-out-of-range",
        "not-http",
        "nothing",
    ],
)
def test_any_answer_is_an_attempt(
    serve: type[RawServer], answer: bytes, status: int | None, body: bytes | None
) -> None:
    """A status line that arrived stands (a body cut short or undecodable is only evidence, at
    most ``MAX_RESPONSE_BYTES``; ``body`` None: whatever could be read); a broken head is no
    answer; neither raises."""
    attempt = _attempt(serve(answer))
    assert attempt.status_code == status
    if status is None:
        assert attempt.error
        assert attempt.outcome_unknown
    elif body is not None:
        assert attempt.body == body
    assert len(attempt.body) <= MAX_RESPONSE_BYTES
    retry_after = attempt.retry_after
    parsed = parse_retry_after(retry_after)
    assert parsed is None or 0 <= parsed <= 86_400


@pytest.mark.parametrize(
    "answer",
    [
        HUGE_RETRY_AFTER + b"\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 202 Accepted\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nxxxxx",
    ],
    ids=["400-digit-retry-after", "bad-gzip"],
)
def test_send_survives_hostile_answers(
    serve: type[RawServer],
    answer: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``send`` against such servers: an exit code and a summary, never "internal error" (a
    400-digit Retry-After used to end it with OverflowError; a bad gzip body with DecodingError)."""
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN)
    server = serve(answer)
    url = f"http://127.0.0.1:{server.port}/t?urlTokenId={URL_TOKEN_ID}"
    activation = activation_with_url(tmp_path, url)
    data = jsonl(tmp_path / "p.jsonl", profiles(2))
    report = tmp_path / "r.json"
    args = ["send", str(activation), str(data), "--allow-http-loopback", "--rate", "0"]
    args += ["--state", str(tmp_path / "s"), "--report-json", str(report), "--max-retry-time", "1"]
    code = main(args)
    out, err = capsys.readouterr()
    assert "internal error" not in err
    assert out.startswith("send: ")
    written = orjson.loads(report.read_bytes())
    if b" 503 " in answer:
        assert code == 1
        assert written["lines"]["pending"] == 2
        assert written["last_error"] == "http 503 Service Unavailable"
    else:
        assert code == 0
        assert written["identities_activated"] == 2


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (b"HTTP/1.1 202 Accepted\r\n\r\n" + b"[" * 5000 + b"]" * 5000, 0),
        (b"HTTP/1.1 202 Accepted\r\n\r\n" + b'{"n": 1' + b"0" * 400 + b"}", 0),
        (b"HTTP/1.1 202 Accepted\r\nContent-Encoding: gzip\r\n\r\nnot gzip", 0),
        (b"HTTP/1.1 400 Bad\r\nContent-Type: application/json\r\n\r\n\xff\xfe{", 1),
        (HUGE_RETRY_AFTER + b"\r\n\r\n", 1),
    ],
    ids=["deep-json", "huge-number", "bad-gzip", "binary-body", "400-digit-retry-after"],
)
def test_test_destination_prints_any_answer(
    serve: type[RawServer],
    answer: bytes,
    code: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    """``test-destination`` records whatever came back as the call's response (the body as JSON
    when it parses, as text otherwise): valid JSON out, never an internal error."""
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN)
    server = serve(answer)
    url = f"http://127.0.0.1:{server.port}/t?urlTokenId={URL_TOKEN_ID}"
    activation = activation_with_url(tmp_path, url)
    args = ["test-destination", str(activation), "--count", "1", "--allow-http-loopback"]
    assert main(args) == code
    out, err = capsysbinary.readouterr()
    assert b"internal error" not in err
    document = orjson.loads(out)
    (result,) = document["results"]
    assert result["httpCalls"][0]["response"]["code"] in (202, 400, 503)
