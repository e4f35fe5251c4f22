"""A server that drips its answer cannot hold a request past its total deadline.

httpx's read timeout is per read: a byte every 50 ms never trips its 15 s, so before the
deadline a request to such a server lasted as long as the server kept dripping (here: until the
server gives up, 20 s later). The servers below are real sockets on 127.0.0.1.
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
from connector.delivery.client import make_client, post_event

#: Between two dripped bytes; 400 bytes make the server give up after 20 s.
INTERVAL = 0.05
DRIPPED = 400


class DripServer:
    """Answers every connection with ``prefix`` at once, then ``DRIPPED`` bytes one at a time."""

    def __init__(self, prefix: bytes, drip: bytes) -> None:
        self.prefix = prefix
        self.drip = (drip * DRIPPED)[:DRIPPED]
        self.stop = threading.Event()
        self.finished_dripping = threading.Event()
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self._listener.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(self.prefix)
                for byte in self.drip:
                    if self.stop.wait(INTERVAL):
                        return
                    conn.sendall(bytes([byte]))
                self.finished_dripping.set()
            except OSError:
                return  # the client gave up: what the deadline is for

    def close(self) -> None:
        self.stop.set()
        self._thread.join()
        self._listener.close()


@pytest.fixture
def drip_headers() -> Iterator[DripServer]:
    """A server whose status line and headers never end."""
    server = DripServer(b"", b"HTTP/1.1 202 Accepted\r\nX-Slow: " + b"a" * DRIPPED)
    yield server
    server.close()


@pytest.fixture
def drip_body() -> Iterator[DripServer]:
    """A server that answers 202 at once, then drips a long body."""
    head = f"HTTP/1.1 202 Accepted\r\nContent-Length: {DRIPPED}\r\n\r\n".encode()
    server = DripServer(head, b"x")
    yield server
    server.close()


def test_dripped_headers_end_at_the_deadline(drip_headers: DripServer) -> None:
    """Headers dripped a byte at a time: the attempt ends as a read timeout, an unknown outcome,
    while the server is still dripping (before the deadline it lasted the whole drip)."""
    with make_client(QualtricsBasicAuth("u", "t")) as client:
        attempt = post_event(
            client, f"http://127.0.0.1:{drip_headers.port}/t", b"{}", "k", deadline=0.5
        )
    assert attempt.status_code is None
    assert attempt.error == "read timeout"
    assert attempt.outcome_unknown
    assert not drip_headers.finished_dripping.is_set()


def test_a_dripped_body_keeps_its_status(drip_body: DripServer) -> None:
    """The status line arrived at once: the deadline cuts the body, and the 202 stands (a retry
    would start a second run)."""
    with make_client(QualtricsBasicAuth("u", "t")) as client:
        attempt = post_event(
            client, f"http://127.0.0.1:{drip_body.port}/t", b"{}", "k", deadline=0.5
        )
    assert attempt.status_code == 202
    assert 0 < len(attempt.body) < DRIPPED
    assert not drip_body.finished_dripping.is_set()


def test_max_retry_time_bounds_a_request_in_flight(
    drip_headers: DripServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``send --max-retry-time 1`` to a dripping server: the one request ends with the retry
    window, the event stays pending (exit 1), and the report says why."""
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN)
    url = f"http://127.0.0.1:{drip_headers.port}/t?urlTokenId={URL_TOKEN_ID}"
    activation = activation_with_url(tmp_path, url)
    data = jsonl(tmp_path / "p.jsonl", profiles(1))
    report = tmp_path / "r.json"
    args = ["send", str(activation), str(data), "--allow-http-loopback", "--rate", "0"]
    args += ["--state", str(tmp_path / "s"), "--report-json", str(report)]
    assert main([*args, "--max-retry-time", "1"]) == 1
    assert not drip_headers.finished_dripping.is_set()
    written = orjson.loads(report.read_bytes())
    assert written["lines"]["pending"] == 1
    assert written["last_error"] == "read timeout"
    assert URL_TOKEN_ID not in capsys.readouterr().err
