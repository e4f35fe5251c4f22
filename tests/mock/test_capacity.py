"""2,000 idle or slow (slowloris) connections do not stop the mock answering a normal request.

Waitress reads requests in its event loop and gives a worker thread only a complete request, so a
connection that sends nothing, or half a header, costs a socket and no thread; the server polls
with ``poll()`` (no 1,024-descriptor ceiling) and holds up to 10,000 connections. The normal
request must be answered within 1 s (the client's timeout), as the mock promises.
"""

from __future__ import annotations

import os
import resource
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from support.mock import PAYLOAD, TOKEN, TOKEN_ID, base_config

from mock_qualtrics import LiveMock

IDLE = 1_000
SLOW = 1_000


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * (IDLE + SLOW) + 200  # both ends live in this process
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            reason = f"needs {need} open files, the hard limit is {hard}"
            if os.environ.get("CI"):  # CI must measure capacity, not skip it
                pytest.fail(f"CI is set but the test {reason}")
            pytest.skip(reason)
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    opened: list[socket.socket] = []
    yield opened
    for s in opened:
        s.close()
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_answers_while_2000_connections_idle_or_crawl(sockets: list[socket.socket]) -> None:
    with LiveMock(base_config()) as live:
        for n in range(IDLE + SLOW):
            s = socket.create_connection(("127.0.0.1", live.port), timeout=10)
            sockets.append(s)
            if n >= IDLE:  # slowloris: half a request, then nothing
                s.sendall(b"POST /inbound-event/v1/events/json/triggers HTTP/1.1\r\nHost: x\r\n")
        accepted = live._server._map  # the event loop's sockets: ours, its own two, the pipe
        deadline = time.monotonic() + 120
        while len(accepted) < IDLE + SLOW + 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # the loop accepts one connection per turn; wait until all are in
        assert len(accepted) >= IDLE + SLOW + 2
        trigger = f"{live.url}/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}"
        with httpx.Client(timeout=httpx.Timeout(1.0, connect=1.0)) as client:
            r = client.post(trigger, json=PAYLOAD, headers={"X-API-TOKEN": TOKEN})
            assert r.status_code == 202
            assert client.get(f"{live.url}/__admin/health").status_code == 200
        assert live.errors == []
