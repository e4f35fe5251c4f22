"""``--trust-proxy N``: a mock behind an ingress hands out the public scheme and host.

A tiny forwarding proxy on 127.0.0.1 plays the TLS ingress: it passes each request on to the mock
with ``Host`` rewritten to the mock's own address, as a reverse proxy does, and adds
``X-Forwarded-Proto: https``, ``X-Forwarded-Host: mock.example.com`` and ``X-Forwarded-For``.
With ``--trust-proxy 1`` the trigger URLs the admin API hands out, the UI's links and the Host
rule use ``https://mock.example.com``; without it the forwarded headers are ignored, as they must
be (anyone can send them).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.served import mock_file, serve

from mock_qualtrics import LiveMock
from mock_qualtrics.client import MockAdmin
from mock_qualtrics.config import ConfigError

PUBLIC = "mock.example.com"
ADMIN_TOKEN = "trust-proxy-admin-token-0123456"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class _Forwarding(BaseHTTPRequestHandler):
    upstream = ""
    forwarded: dict[str, str] = {}  # noqa: RUF012 - set per server class

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        headers.update(self.forwarded)
        with httpx.Client(base_url=self.upstream) as client:
            answer = client.request(self.command, self.path, content=body, headers=headers)
        self.send_response(answer.status_code)
        for key, value in answer.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = do_PATCH = do_DELETE = _forward

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads answers, not the proxy's log."""


def _proxy(upstream: str, forwarded: dict[str, str]) -> Iterator[str]:
    handler = type("Handler", (_Forwarding,), {"upstream": upstream, "forwarded": forwarded})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


INGRESS = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": PUBLIC,
    "X-Forwarded-For": "203.0.113.9",
}


def _mock(trust: int) -> LiveMock:
    return LiveMock({"ADMIN_TOKEN": ADMIN_TOKEN, "PUBLIC_HOSTS": (PUBLIC,), "TRUST_PROXY": trust})


@pytest.fixture
def behind_ingress() -> Iterator[str]:
    """The proxy's URL, in front of a mock started with ``TRUST_PROXY = 1``."""
    with _mock(1) as live:
        yield from _proxy(live.url, INGRESS)


def _create_workflow(base: str) -> dict[str, Any]:
    admin = MockAdmin(base, admin_token=ADMIN_TOKEN)
    try:
        admin.add_user("u@example.com", "tok")
        return admin.create_workflow("Behind the ingress", owner="u@example.com")
    finally:
        admin.close()


def test_trigger_urls_carry_the_public_scheme_and_host(behind_ingress: str) -> None:
    """The admin API's trigger_url is https://mock.example.com/..., what a sender outside uses."""
    workflow = _create_workflow(behind_ingress)
    assert workflow["trigger_url"] == (
        f"https://{PUBLIC}/inbound-event/v1/events/json/triggers?urlTokenId={workflow['urlTokenId']}"
    )


def test_ui_links_work_and_a_write_from_the_public_origin_passes(behind_ingress: str) -> None:
    """The UI's links are site-relative (right behind any ingress), and an admin write whose
    Origin is the public https origin is same-origin for the mock, as for the browser."""
    workflow = _create_workflow(behind_ingress)
    page = httpx.get(f"{behind_ingress}/workflows/{workflow['id']}", headers=AUTH)
    assert page.status_code == 200, page.text
    assert 'href="/events"' in page.text
    assert "127.0.0.1" not in page.text
    write = httpx.patch(
        f"{behind_ingress}/__admin/workflows/{workflow['id']}",
        json={"enabled": False},
        headers={**AUTH, "Origin": f"https://{PUBLIC}", "Sec-Fetch-Site": "same-origin"},
    )
    assert write.status_code == 200, write.text
    cross = httpx.patch(
        f"{behind_ingress}/__admin/workflows/{workflow['id']}",
        json={"enabled": True},
        headers={**AUTH, "Origin": f"http://{PUBLIC}"},  # the same host, another scheme
    )
    assert cross.status_code == 403, cross.text


def test_the_host_rule_reads_the_forwarded_host() -> None:
    """A forwarded Host that is not a public host gets 421, even though the proxy asked the
    mock by its loopback address."""
    with _mock(1) as live:
        for url in _proxy(live.url, {**INGRESS, "X-Forwarded-Host": "evil.example"}):
            assert httpx.get(f"{url}/__admin/workflows", headers=AUTH).status_code == 421


def test_without_trust_the_forwarded_headers_are_ignored() -> None:
    """TRUST_PROXY = 0 (the default): the URL names the address the proxy asked, not the
    forwarded one, since any client can send X-Forwarded-* headers."""
    with _mock(0) as live:
        for url in _proxy(live.url, INGRESS):
            workflow = _create_workflow(url)
    assert workflow["trigger_url"].startswith(f"{live.url}/inbound-event/")


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ConfigError, match="TRUST_PROXY: must be 0 to 10, got -1"):
        _mock(-1)


def test_mock_serve_takes_the_flag(tmp_path: Path) -> None:
    """`qharness mock serve --trust-proxy 1` behind the proxy: the public trigger URL."""
    process, url = serve(
        "--trust-proxy",
        "1",
        "--public-host",
        PUBLIC,
        "--workflows",
        str(mock_file(tmp_path / "w.toml")),
    )
    try:
        for proxied in _proxy(url, INGRESS):
            [workflow] = httpx.get(f"{proxied}/__admin/workflows").json()["workflows"]
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert workflow["trigger_url"].startswith(f"https://{PUBLIC}/inbound-event/")
