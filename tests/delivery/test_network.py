"""Sending from a company network: a private root CA, a CONNECT proxy, over real TLS on loopback.

The mock is served over TLS as ``iad1.qualtrics.com`` under a test CA (``support.tls``); the name
reaches 127.0.0.1 through the client's ``CONNECT_TO`` seam, or through the proxy's own table.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.activations import activation_with_url
from support.cli import qharness
from support.destination import FIELDS, TOKEN, USER
from support.profiles import jsonl, profile
from support.tls import QUALTRICS_NAME, Certificates, ConnectProxy, TlsFront, issue_certificates

from connector.delivery import network
from connector.plugin import MockQualtrics
from mock_qualtrics import LiveMock

TRIGGER = f"https://{QUALTRICS_NAME}/inbound-event/v1/events/json/triggers?urlTokenId="


class Destination:
    """The mock behind TLS as ``iad1.qualtrics.com``, with a workflow and an activation for it."""

    def __init__(self, tmp_path: Path, admin: MockQualtrics, front: TlsFront, certs: Certificates):
        self.admin = admin
        self.front = front
        self.certs = certs
        admin.add_user(USER, TOKEN)
        self.flow = admin.create_workflow("CSAT", owner=USER, fields=FIELDS)
        self.token_id = self.flow["trigger_url"].rsplit("urlTokenId=", 1)[1]
        self.activation = str(activation_with_url(tmp_path, TRIGGER + self.token_id))
        self.profiles = str(
            jsonl(tmp_path / "p.jsonl", [profile(f"u{i}@example.com") for i in range(3)])
        )
        self.state = str(tmp_path / "state")

    def runs(self, count: int) -> list[object]:
        return self.admin.runs(self.flow["id"], wait_for=count)


@pytest.fixture
def destination(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Destination]:
    monkeypatch.setenv("QUALTRICS_API_TOKEN", TOKEN)
    for name in ("QHARNESS_PROXY", "QHARNESS_CA_BUNDLE", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    certs = issue_certificates(tmp_path)
    with LiveMock({"PUBLIC_HOSTS": (QUALTRICS_NAME,)}) as live:
        admin = MockQualtrics(live)
        try:
            with TlsFront(certs, ("127.0.0.1", live.port)) as front:
                yield Destination(tmp_path, admin, front, certs)
        finally:
            admin.close()


@pytest.fixture
def direct(destination: Destination, monkeypatch: pytest.MonkeyPatch) -> Destination:
    """``iad1.qualtrics.com:443`` opens a socket to the TLS front (no /etc/hosts involved)."""
    monkeypatch.setitem(
        network.CONNECT_TO, (QUALTRICS_NAME, 443), ("127.0.0.1", destination.front.port)
    )
    return destination


def _send(dest: Destination, *extra: str) -> tuple[int, str]:
    result = qharness(
        "send", dest.activation, dest.profiles, "--state", dest.state, "--rate", "0", *extra
    )
    return result.returncode, (result.stdout + result.stderr).decode()


def test_send_with_ca_bundle_delivers_over_tls(direct: Destination) -> None:
    """A private root given with --ca-bundle is trusted beside the OS store: every profile
    becomes a run on the mock behind real TLS."""
    code, output = _send(direct, "--ca-bundle", str(direct.certs.ca))
    assert code == 0, output
    assert len(direct.runs(3)) == 3
    assert TOKEN not in output
    assert direct.token_id not in output


def test_ca_bundle_from_the_environment(
    direct: Destination, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$QHARNESS_CA_BUNDLE does what --ca-bundle does."""
    monkeypatch.setenv("QHARNESS_CA_BUNDLE", str(direct.certs.ca))
    code, output = _send(direct)
    assert code == 0, output


def test_without_the_ca_the_certificate_is_refused(direct: Destination) -> None:
    """Without the private root the handshake fails; the run says it was the certificate (of
    which host) and how to trust a private root, and keeps every event pending."""
    code, output = _send(direct, "--max-retry-time", "0")
    assert code == 1
    assert "TLS: certificate verify failed" in output
    assert QUALTRICS_NAME in output
    assert "--ca-bundle" in output
    assert "outbox: 3 pending" in output, output
    assert direct.front.refused >= 1
    assert direct.admin.runs(direct.flow["id"]) == []


def test_a_ca_bundle_trusts_only_what_it_holds(direct: Destination, tmp_path: Path) -> None:
    """Another CA's file does not make the test CA's certificate trusted."""
    (tmp_path / "other").mkdir()
    other = issue_certificates(tmp_path / "other")
    code, output = _send(direct, "--ca-bundle", str(other.ca), "--max-retry-time", "0")
    assert code == 1
    assert "certificate verify failed" in output


def test_send_through_a_connect_proxy(destination: Destination) -> None:
    """Through --proxy the proxy sees only CONNECT iad1.qualtrics.com:443; what it relays is
    TLS: no token, no profile, no path."""
    routes = {(QUALTRICS_NAME, 443): ("127.0.0.1", destination.front.port)}
    with ConnectProxy(routes) as proxy:
        code, output = _send(
            destination, "--proxy", proxy.url, "--ca-bundle", str(destination.certs.ca)
        )
        assert code == 0, output
        assert len(destination.runs(3)) == 3
    assert proxy.request_lines
    assert set(proxy.request_lines) == {f"CONNECT {QUALTRICS_NAME}:443 HTTP/1.1"}
    seen = bytes(proxy.tunnelled)
    for secret in (TOKEN, destination.token_id, "u0@example.com", "inbound-event", "Basic "):
        assert secret.encode() not in seen


def test_proxy_env_is_used_only_on_request(
    destination: Destination, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTPS_PROXY alone changes nothing (the client goes direct); --proxy env uses it."""
    routes = {(QUALTRICS_NAME, 443): ("127.0.0.1", destination.front.port)}
    ca = str(destination.certs.ca)
    with ConnectProxy(routes) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setitem(
            network.CONNECT_TO, (QUALTRICS_NAME, 443), ("127.0.0.1", destination.front.port)
        )
        result = qharness(
            "test-destination", destination.activation, "--count", "1", "--ca-bundle", ca
        )
        assert result.returncode == 0, result.stderr
        assert proxy.requests == []
        result = qharness(
            "test-destination", destination.activation, "--count", "1", "--ca-bundle", ca,
            "--proxy", "env",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert proxy.request_lines == [f"CONNECT {QUALTRICS_NAME}:443 HTTP/1.1"]


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["--ca-bundle", "missing.pem"], {}, "--ca-bundle 'missing.pem': no such file"),
        (["--ca-bundle", "."], {}, "--ca-bundle"),
        (["--ca-bundle", "p.jsonl"], {}, "no PEM certificate in it"),
        (["--proxy", "env"], {}, "--proxy env: HTTPS_PROXY is not set"),
        (["--proxy", "ftp://proxy.example:21"], {}, "expected http://HOST:PORT"),
        (["--proxy", "http://proxy.example:3128/path"], {}, "no path or query"),
        (["--proxy", "http://bob:s3cret@proxy.example:3128"], {}, "$QHARNESS_PROXY instead"),
        ([], {"QHARNESS_PROXY": "socks5://proxy.example:1080"}, "QHARNESS_PROXY"),
    ],
)
def test_network_mistakes_are_one_line_exit_2(
    destination: Destination,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    words: str,
) -> None:
    """A bad --ca-bundle or --proxy is a usage error: one line, exit 2, no credentials shown,
    and nothing is sent or written."""
    monkeypatch.chdir(Path(destination.profiles).parent)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for command in (
        ["send", destination.activation, destination.profiles, "--state", destination.state],
        ["test-destination", destination.activation],
    ):
        result = qharness(*command, *args)
        err = result.stderr.decode()
        assert result.returncode == 2, err
        assert words in err
        assert "s3cret" not in err
        assert "Traceback" not in err
        assert len(err.strip().splitlines()) == 1, err
    assert not Path(destination.state).exists()


def test_proxy_credentials_from_the_environment_are_sent_and_never_shown(
    destination: Destination, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Credentials in $QHARNESS_PROXY reach the proxy (Proxy-Authorization) and no output."""
    routes = {(QUALTRICS_NAME, 443): ("127.0.0.1", destination.front.port)}
    with ConnectProxy(routes) as proxy:
        host = proxy.url.split("//")[1]
        monkeypatch.setenv("QHARNESS_PROXY", f"http://bob:s3cret@{host}")
        code, output = _send(destination, "--ca-bundle", str(destination.certs.ca))
    assert code == 0, output
    assert "s3cret" not in output
    assert all("Proxy-Authorization: Basic" in head for head in proxy.requests)


def test_network_repr_hides_proxy_credentials() -> None:
    """A Network in a log or a traceback shows the proxy's host, never its credentials."""
    shown = repr(network.Network(proxy="http://bob:s3cret@proxy.example:3128"))
    assert "s3cret" not in shown
    assert "bob" not in shown
    assert "http://proxy.example:3128" in shown
