"""A company network on loopback: a private CA, a TLS front for the mock, a CONNECT proxy.

``issue_certificates`` makes a test root CA and a server certificate for a Qualtrics name (with
the ``cryptography`` package). ``TlsFront`` terminates TLS with that certificate on a free
127.0.0.1 port and relays the plain bytes to the mock, as a load balancer would. ``ConnectProxy``
is an HTTP proxy that answers only ``CONNECT`` and records every request line it saw and every
byte a client sent through its tunnels, so a test can show what a proxy learns. The Qualtrics
name reaches 127.0.0.1 through ``connector.delivery.network.CONNECT_TO`` (the client's
``--connect-to`` seam), not through ``/etc/hosts``; the proxy maps it with the same table.
"""

from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["QUALTRICS_NAME", "Certificates", "ConnectProxy", "TlsFront", "issue_certificates"]

#: The data-center host the tests deliver to (its name maps to a loopback port).
QUALTRICS_NAME = "iad1.qualtrics.com"
_TIMEOUT = 10.0
_CA_KEY_USAGE = dict.fromkeys(
    (
        "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
        "encipher_only", "decipher_only",
    ),
    False,
) | {"digital_signature": True, "key_cert_sign": True, "crl_sign": True}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Certificates:
    """PEM files: the root CA (what ``--ca-bundle`` trusts) and the server's chain and key."""

    ca: Path
    server_chain: Path
    server_key: Path
    ca_name: str


def issue_certificates(directory: Path, host: str = QUALTRICS_NAME) -> Certificates:
    """A root CA ("qharness test root CA") and a certificate it signed for ``host``."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "qharness test root CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_path = directory / "test-root-ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(pem))
    chain = directory / "server-chain.pem"
    chain.write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    key_path = directory / "server-key.pem"
    key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Certificates(ca_path, chain, key_path, "qharness test root CA")


class _Relay:
    """A loopback listener whose connections each get a thread; closes everything on exit."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> _Relay:
        self._acceptor.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._acceptor.join(_TIMEOUT)
        with self._lock:
            for sock in self._sockets:
                _close(sock)
        for thread in self._threads:
            thread.join(_TIMEOUT)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._keep(conn)
            thread = threading.Thread(target=self._serve_safely, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _keep(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _serve_safely(self, conn: socket.socket) -> None:
        try:
            self.serve(conn)
        except OSError:
            pass  # a peer that went away: the test sees the outcome on the client's side
        finally:
            _close(conn)

    def serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def pipe(self, a: socket.socket, b: socket.socket, seen: bytearray | None = None) -> None:
        """Copy bytes both ways until either side closes (``seen`` gets what ``a`` sent)."""

        def copy(source: socket.socket, target: socket.socket, log: bytearray | None) -> None:
            try:
                while chunk := source.recv(65536):
                    if log is not None:
                        log += chunk
                    target.sendall(chunk)
            except OSError:
                pass
            finally:
                for sock in (source, target):
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)

        back = threading.Thread(target=copy, args=(b, a, None), daemon=True)
        back.start()
        copy(a, b, seen)
        back.join(_TIMEOUT)


class TlsFront(_Relay):
    """TLS on a free loopback port with ``certificates``' server chain, relayed to ``target``."""

    def __init__(self, certificates: Certificates, target: tuple[str, int]) -> None:
        super().__init__()
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(certificates.server_chain, certificates.server_key)
        self._target = target
        #: TLS handshakes that failed (a client that refused the certificate).
        self.refused = 0

    def serve(self, conn: socket.socket) -> None:
        conn.settimeout(_TIMEOUT)
        try:
            tls = self._context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            self.refused += 1
            return
        self._keep(tls)
        upstream = socket.create_connection(self._target, timeout=_TIMEOUT)
        self._keep(upstream)
        try:
            self.pipe(tls, upstream)
        finally:
            _close(upstream)
            _close(tls)


class ConnectProxy(_Relay):
    """An HTTP proxy that tunnels ``CONNECT host:port`` (mapped by ``routes``) and nothing else."""

    def __init__(self, routes: Mapping[tuple[str, int], tuple[str, int]]) -> None:
        super().__init__()
        self._routes = dict(routes)
        #: Every request head the proxy read, in order (a client's first line and headers).
        self.requests: list[str] = []
        #: Every byte clients sent through the tunnels (what a proxy could inspect).
        self.tunnelled = bytearray()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def request_lines(self) -> list[str]:
        return [head.split("\r\n", 1)[0] for head in self.requests]

    def serve(self, conn: socket.socket) -> None:
        conn.settimeout(_TIMEOUT)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = conn.recv(4096)
            if not chunk:
                return
            head += chunk
        text = head.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        self.requests.append(text)
        method, target, _ = ([*text.split("\r\n", 1)[0].split(" "), "", ""])[:3]
        if method != "CONNECT":
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = target.rpartition(":")
        route = self._routes.get((host, int(port)))
        if route is None:
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        upstream = socket.create_connection(route, timeout=_TIMEOUT)
        self._keep(upstream)
        try:
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self.pipe(conn, upstream, self.tunnelled)
        finally:
            _close(upstream)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
