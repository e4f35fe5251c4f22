"""Where requests leave from: the TLS trust and the proxy of an operator's network.

Many teams reach the internet only through an HTTPS proxy, often one that inspects TLS with the
company's own root certificate. So certificates are verified against the operating system's trust
store (the ``truststore`` package, as pip does: on Linux the distribution's CA file, which
``SSL_CERT_FILE`` can point elsewhere), plus an optional PEM file of extra roots (``--ca-bundle``).
Verification itself can never be turned off: there is no option for it.

A proxy is only the path: the client asks it to ``CONNECT host:443`` and speaks TLS to the
destination through the tunnel, so the proxy sees the host name and nothing else. The URL guard
still decides the destination. The environment's ``HTTPS_PROXY`` is used only when asked
(``proxy="env"``), so that a stray variable cannot redirect profile data; ``NO_PROXY`` is not
read (every destination the guard allows is a Qualtrics host). A proxy URL may carry
credentials (``http://user:pass@proxy:3128``) only from the environment, never from a command
line, where other users of the machine can read them; they never appear in a repr or a message.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

import truststore

from ..errors import UsageError

__all__ = [
    "CA_BUNDLE_ENV",
    "CONNECT_TO",
    "DIRECT",
    "PROXY_ENV",
    "Network",
    "network_from",
]

#: The environment variables behind ``--ca-bundle`` and ``--proxy``.
CA_BUNDLE_ENV: Final = "QHARNESS_CA_BUNDLE"
PROXY_ENV: Final = "QHARNESS_PROXY"
#: ``--proxy env``: use the environment's HTTPS proxy (the usual variable, either case).
_ENV_PROXY_NAMES: Final = ("HTTPS_PROXY", "https_proxy")

#: A test seam, like curl's ``--connect-to``: ``(host, port)`` -> the ``(host, port)`` a socket
#: really opens. Empty outside tests (which map a Qualtrics name to a loopback port); the URL
#: guard, the Host header, SNI and the certificate check still use the URL's own host.
CONNECT_TO: Final[dict[tuple[str, int], tuple[str, int]]] = {}


@dataclass(frozen=True, slots=True)
class Network:
    """Extra trusted roots and a proxy; ``DIRECT`` (the default) has neither."""

    ca_bundle: Path | None = None
    #: ``http://`` or ``https://`` URL of a CONNECT proxy; may carry credentials (never shown).
    proxy: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"Network(ca_bundle={self.ca_bundle!r}, proxy={self.proxy_shown!r})"

    @property
    def proxy_shown(self) -> str | None:
        """The proxy as ``scheme://host:port``: what messages may say about it."""
        if self.proxy is None:
            return None
        parts = urlsplit(self.proxy)
        port = f":{parts.port}" if parts.port is not None else ""
        return f"{parts.scheme}://{parts.hostname}{port}"

    def ssl_context(self) -> ssl.SSLContext:
        """The OS trust store plus ``ca_bundle``; always verifying certificate and host name."""
        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if self.ca_bundle is not None:
            _load_roots(context, self.ca_bundle)
        return context


DIRECT: Final = Network()


def network_from(
    ca_bundle: str | Path | None,
    proxy: str | None,
    *,
    proxy_from_command_line: bool = False,
    environ: Mapping[str, str] = os.environ,
) -> Network:
    """A checked ``Network`` from option values (``proxy`` may be ``"env"``); ``UsageError`` names
    the option and the value (credentials hidden) when one cannot work."""
    bundle = None
    if ca_bundle is not None and str(ca_bundle).strip():
        bundle = Path(ca_bundle)
        _load_roots(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), bundle)  # fail now, not per request
    url = None
    if proxy is not None and proxy.strip():
        if proxy.strip().lower() == "env":
            url = next((environ[n] for n in _ENV_PROXY_NAMES if environ.get(n, "").strip()), None)
            if url is None:
                raise UsageError("--proxy env: HTTPS_PROXY is not set (set it, or give a URL)")
            where = "HTTPS_PROXY"
        else:
            url = proxy.strip()
            where = "--proxy" if proxy_from_command_line else PROXY_ENV
        _check_proxy(url.strip(), where, from_command_line=proxy_from_command_line)
        url = url.strip()
    return Network(ca_bundle=bundle, proxy=url)


def _load_roots(context: ssl.SSLContext, path: Path) -> None:
    try:
        context.load_verify_locations(cafile=os.fspath(path))
    except FileNotFoundError:
        raise UsageError(f"--ca-bundle {str(path)!r}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"--ca-bundle {str(path)!r}: a directory, not a PEM file") from None
    except PermissionError:
        raise UsageError(f"--ca-bundle {str(path)!r}: cannot read it (permission denied)") from None
    except (ssl.SSLError, OSError, ValueError):
        raise UsageError(
            f"--ca-bundle {str(path)!r}: no PEM certificate in it "
            "(expected -----BEGIN CERTIFICATE----- blocks)"
        ) from None


def _check_proxy(url: str, where: str, *, from_command_line: bool) -> None:
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError:
        raise UsageError(f"{where}: not a proxy URL (an invalid host or port)") from None
    shown = f"{parts.scheme}://{host or ''}"
    if parts.scheme not in ("http", "https") or not host:
        raise UsageError(
            f"{where} {shown!r}: expected http://HOST:PORT or https://HOST:PORT (a CONNECT proxy)"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UsageError(f"{where} {shown!r}: a proxy URL has no path or query")
    if "@" in parts.netloc and from_command_line:
        raise UsageError(
            f"{where} {shown!r}: proxy credentials on the command line are visible to other "
            f"users; put the URL in ${PROXY_ENV} instead"
        )
