"""Serving the mock over real HTTP with waitress: in a thread (:class:`LiveMock`) or as a process.

Why waitress: it is pure Python, runs in-process (the pytest plugin and the certification start a
mock inside the test process) and on every OS; the mock keeps its state in one process, so a
multi-process server would not fit. A dropped-connection fault relies on waitress closing the socket
when the app raises ``ClientDisconnected`` (see :class:`mock_qualtrics.app.DropMiddleware`).
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from flask import Flask
from waitress.server import create_server

from .app import create_app
from .state import current_state

__all__ = ["LiveMock", "is_loopback", "make_server"]

log = logging.getLogger(__name__)

#: waitress threads: long-polls hold one each for up to 30 s, so keep more than the default 4.
DEFAULT_THREADS = 16


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def make_server(
    app: Flask, host: str = "127.0.0.1", port: int = 0, *, threads: int = DEFAULT_THREADS
) -> Any:
    """A waitress server for ``app`` bound to ``host:port`` (port 0: a free one), not yet running.

    The bound port is ``server.effective_port``.
    """
    limit = int(app.config["MAX_BODY_BYTES"])
    return create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="mock_qualtrics",
        # waitress answers a body this large itself (plain 413) before the app sees it.
        max_request_body_size=max(limit * 8, 1 << 20),
        expose_tracebacks=False,
        clear_untrusted_proxy_headers=True,
        channel_timeout=60,
        connection_limit=1000,
    )


def stop_server(server: Any) -> None:
    """Close a running waitress server's sockets from another thread; its ``run()`` returns."""

    def close_all() -> None:
        for channel in list(server._map.values()):
            channel.close()

    try:
        server.trigger.pull_trigger(close_all)
    except OSError:  # the loop is already gone (its wake-up pipe closed): close what is left here
        close_all()


class LiveMock:
    """A mock served on ``127.0.0.1`` from a background thread, for tests and certification.

    ``LiveMock(config=None, host="127.0.0.1", port=0)``; use as a context manager or call
    :meth:`start` / :meth:`stop`. ``config`` is passed to :func:`create_app`, with ``RUN_DELAY``
    defaulting to 0. ``url`` is the base URL, e.g. ``http://127.0.0.1:40123``.
    """

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = DEFAULT_THREADS,
    ) -> None:
        settings: dict[str, Any] = {"RUN_DELAY": 0}
        settings.update(config or {})
        self.app = create_app(settings)
        self._server = make_server(self.app, host, port, threads=threads)
        self.host = host
        self.port: int = int(self._server.effective_port)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> LiveMock:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.run, name=f"mock-qualtrics-{self.port}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, finish pending runs and close the store."""
        store = current_state(self.app).store
        if self._thread is not None:
            stop_server(self._server)
            self._thread.join(timeout=10)
            self._thread = None
        else:
            self._server.close()
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        store.close()

    def __enter__(self) -> LiveMock:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
