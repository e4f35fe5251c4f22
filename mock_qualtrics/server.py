"""Serving the mock over real HTTP with waitress: in a thread (:class:`LiveMock`) or as a process.

Why waitress, tuned: it is pure Python, runs in-process (the pytest plugin and the certification
start a mock inside the test process, on a free port) and on every OS, and it lets the app close a
connection unanswered (the dropped-connection fault). The mock keeps its state in one process, so
gunicorn's worker processes do not fit (each would have its own users, faults and counters).

Measured (``benchmarks/mock_throughput.py``, ``wrk -c32``, 2 cores, 2026-12-02):

- granian 2.8.9 (a Rust HTTP server with a WSGI mode), same app: 2.2-2.5k events/s with p99
  75-126 ms while the box was loaded, 1.28-1.68k/s with p99 34-40 ms on idle cores, about what
  waitress does here. It cannot drop a connection unanswered (an exception before
  ``start_response`` becomes a 500, one in the body a 202 cut short), its in-process (thread)
  server needs a free-threaded Python, and its worker process would need a shutdown path of its
  own for the store. Not chosen.
- waitress, with the trigger's POSTs past Flask's routing (:class:`~mock_qualtrics.app.
  TriggerFastPath`), a group commit's accepted triggers as one ``executemany`` per table, and a
  0.5 ms GIL switch interval in ``qharness mock serve`` (:data:`SWITCH_INTERVAL`): 1.45k recorded
  events/s, p99 41 ms, 780 us of CPU per event, every feature on and every 202 durable. Beside it,
  in the same run, a bare Flask endpoint doing one SQLite insert on gunicorn (2 sync workers):
  3.7k/s, 360 us per event; WireMock 3.13.2: 6.1k/s. On a box loaded by other work (load 8-15)
  the same three read 1.0-1.6k, 1.1-2.1k and 0.4-2.2k: the ratios depend on the load more than
  on the code. (Then the mock missed the throughput targets; the 2026-12-06 runs below meet them.)
  Tried and dropped: ``send_bytes=1`` (more CPU per event), 4 or 8 threads (fewer events).

Measured again 2026-12-06. On 2 idle cores ``mock serve`` answered only 100-450 events/s, p99
0.4-1.6 s, with 40% of the CPU idle: its threads passed the GIL between CPUs (see
:func:`confine_to_one_cpu`). Confined to one CPU: 2.35k/s sustained over 60 s on a growing history
(p99 <= 41 ms, 390 us CPU/event), 0.67x the bare gunicorn endpoint (3.5k/s) and ahead of WireMock
with a bounded journal, in the same ``benchmarks/mock_throughput.py`` run. Before that, with mock
and wrk pinned to one core (the other busy), in alternating runs:

- 64 threads instead of 16 (more threads than connections: waitress no longer queues complete
  requests for a free thread): 1.75-1.80k -> 1.95-2.02k events/s; the plain 202 as a small WSGI
  app instead of a ``Response`` (:class:`~mock_qualtrics.trigger.Accepted`): -> 2.22k/s. Kept.
- The same app on granian: 2.57k/s against waitress' 1.70k/s at the time, but still no way to
  drop a connection unanswered (its WSGI protocol object has no abort; a body cut short is
  sometimes a 202 status line first). uvicorn (httptools, uvloop) with the trigger's POSTs handed
  to a thread pool and the rest through its WSGI adapter: 1.92k/s. uvicorn could drop a
  connection (a protocol subclass may hand the app its transport's ``abort``), but the gain does
  not pay for a second server's behaviour differences. Waiting on a per-batch event instead of one
  condition for every requester: no change. Not kept.

Waitress reads requests in its event loop and hands only complete requests to worker threads, so
idle or slow (slowloris) connections cost a socket each, not a thread: with ``poll()`` instead of
``select()`` (no 1,024-descriptor ceiling) and a connection limit of 10,000, 2,000 such connections
do not stop it answering (``tests/mock/test_capacity.py``). A dropped-connection fault relies on
waitress closing the socket when the app raises ``ClientDisconnected`` (see
:class:`mock_qualtrics.app.DropMiddleware`).

:func:`shutdown` is the one ordered stop, used by :class:`LiveMock` and ``qharness mock serve``:
stop accepting; end long-polls; let in-flight requests finish (or drop them) within a bound; stop
the worker threads; close every socket and the event loop's wake-up pipe; then flush and close the
store, after the last request.
"""

from __future__ import annotations

import ipaddress
import os
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from flask import Flask
from waitress import wasyncore
from waitress.server import create_server

from .app import create_app
from .config import settings_of
from .incidents import ThreadErrors
from .state import current_state

__all__ = [
    "IN_PROCESS",
    "SWITCH_INTERVAL",
    "LiveMock",
    "confine_to_one_cpu",
    "is_loopback",
    "make_server",
    "shutdown",
]

#: waitress threads of an in-process mock: long-polls hold one each for up to 30 s, so keep more
#: than waitress' default 4 (``qharness mock serve`` starts :data:`~mock_qualtrics.config.
#: SERVE_THREADS`, for load tests).
DEFAULT_THREADS = 16
#: The GIL switch interval (seconds) ``qharness mock serve`` sets for its own process. Python's
#: default, 5 ms, lets a thread busy in Python (the writer, a request being parsed) keep the GIL
#: that long while waitress' event loop, which has sockets ready, waits for it; on 2 idle cores
#: 0.5-1 ms answered 1.16-1.57k events/s (p99 39-51 ms) against 0.90-1.05k/s (p99 64-80 ms) at
#: 5 ms, in alternating runs of the same build. Only the mock's own process is changed: an
#: in-process mock (plugin, certification) leaves the host process' setting alone.
SWITCH_INTERVAL = 0.0005
#: Open connections held at once; each idle one is a socket, not a thread.
CONNECTION_LIMIT = 10_000
#: Seconds in-flight requests get to finish when the mock stops.
GRACE_SECONDS = 5.0
#: What an in-process mock (plugin, certification) changes from the defaults: runs finish at once.
IN_PROCESS: Mapping[str, Any] = {"RUN_DELAY": 0}


def confine_to_one_cpu() -> int | None:
    """Keep every thread of this process on the one CPU it runs on; that CPU, or None where the
    OS offers no affinity (not Linux) or refuses it.

    Why: the mock's threads (waitress' event loop, its workers, the store's writer) pass one GIL
    back and forth several times a request. On two or more CPUs each pass wakes a thread on
    another CPU that then waits for the GIL, and the handoffs, not the work, set the pace:
    ``qharness mock serve`` on 2 idle cores answered 100-450 events/s (p99 0.4-1.6 s, 40% of the
    CPU idle, 80,000 context switches a second), and the same build confined to one CPU
    2.2-2.5k/s (p99 33 ms), in alternating runs on 2026-12-06. Only ``qharness mock serve`` calls
    this (``--all-cpus`` opts out): an in-process mock never changes its host process."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    try:
        allowed = os.sched_getaffinity(0)
        cpu = _current_cpu()
        if cpu not in allowed:
            cpu = min(allowed)
        for tid in os.listdir("/proc/self/task"):  # threads already started keep their own mask
            os.sched_setaffinity(int(tid), {cpu})
    except OSError:
        return None
    return cpu


def _current_cpu() -> int:
    """The CPU this thread last ran on (field 39 of ``/proc/self/stat``), or -1."""
    with open("/proc/self/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[36]) if len(fields) > 36 else -1


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
    limit = settings_of(app).max_body_bytes
    return create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="mock_qualtrics",
        # waitress answers a body this large itself (plain 413) before the app sees it.
        max_request_body_size=max(limit * 8, 1 << 20),
        expose_tracebacks=False,
        # X-Forwarded-* headers are dropped unless the app trusts proxies (TRUST_PROXY): then
        # they reach werkzeug's ProxyFix, which believes only the last TRUST_PROXY hops.
        clear_untrusted_proxy_headers=not settings_of(app).trust_proxy,
        channel_timeout=60,
        connection_limit=CONNECTION_LIMIT,
        asyncore_use_poll=True,
        backlog=2048,
    )


#: Idle keep-alive connections :meth:`LiveMock.quiesce` leaves open (the rest it closes).
KEPT_CONNECTIONS = 8


def _idle(channel: Any) -> bool:
    """Whether a waitress channel holds nothing: no request part received, none queued, no
    answer left to send, no close pending."""
    return (
        channel.request is None
        and not channel.requests
        and not channel.total_outbufs_len
        and not channel.will_close
        and not channel.close_when_flushed
    )


def _in_loop(server: Any, loop: threading.Thread | None, fn: Any) -> None:
    """Run ``fn`` in the event loop's thread (it owns the sockets), or here if it is gone."""
    if loop is not None and loop.is_alive():
        try:
            server.trigger.pull_trigger(fn)
            return
        except OSError:  # the wake-up pipe is already closed: the loop is ending
            pass
    fn()


def shutdown(
    server: Any, app: Flask, loop: threading.Thread | None, *, grace: float = GRACE_SECONDS
) -> None:
    """Stop ``server`` (whose event loop runs in ``loop``, if started) and ``app``'s store, in
    order; see the module docstring. Safe to call once the server has stopped by itself."""
    stopped = threading.Event()

    def stop_accepting() -> None:
        if server.accepting:
            server.accepting = False
            wasyncore.dispatcher.close(server)  # the listening socket only
        stopped.set()

    _in_loop(server, loop, stop_accepting)
    stopped.wait(grace)
    store = current_state(app).store
    store.wake()  # long-polls answer now instead of holding their thread for up to 30 s
    server.task_dispatcher.shutdown(cancel_pending=True, timeout=grace)

    def close_everything() -> None:
        wasyncore.close_all(server._map)  # every channel, and the wake-up pipe last

    _in_loop(server, loop, close_everything)
    if loop is not None:
        loop.join(timeout=grace)
    store.close()


class _Counted:
    """A WSGI app that counts the requests it is handed (:meth:`LiveMock.restore` reads it)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.count = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.count += 1  # counted before the request can change anything
        return self.app(environ, start_response)


class LiveMock:
    """A mock served on ``127.0.0.1`` from a background thread, for tests and certification.

    ``LiveMock(config=None, host="127.0.0.1", port=0)``; use as a context manager or call
    :meth:`start` / :meth:`stop`. ``config`` is passed to :func:`create_app` over
    :data:`IN_PROCESS`. ``url`` is the base URL, e.g. ``http://127.0.0.1:40123``. Errors in the
    mock's threads are kept in ``errors`` (one line each), never printed.
    """

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        threads: int = DEFAULT_THREADS,
    ) -> None:
        self.app = create_app({**IN_PROCESS, **(config or {})})
        self._served = _Counted(self.app.wsgi_app)
        self.app.wsgi_app = self._served  # type: ignore[method-assign]
        self._clean = self._fingerprint()
        try:
            self._server = make_server(self.app, host, port, threads=threads)
        except BaseException:
            current_state(self.app).store.close()
            raise
        self.host = host
        self.port: int = int(self._server.effective_port)
        self._thread: threading.Thread | None = None
        self._errors = ThreadErrors()
        self._stopped = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def errors(self) -> list[str]:
        """One line per error raised in the mock's threads so far."""
        return list(self._errors.lines)

    def _serve(self) -> None:
        try:
            self._server.run()
        except Exception as exc:  # the event loop itself failed: record it, never print it
            self._errors.record(threading.current_thread().name, exc, exc.__traceback__)

    def start(self) -> LiveMock:
        if self._thread is None and not self._stopped:
            self._errors.install()
            self._thread = threading.Thread(
                target=self._serve, name=f"mock-qualtrics-{self.port}", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (in-flight requests get a bounded time), then close the store."""
        if self._stopped:
            return
        self._stopped = True
        try:
            shutdown(self._server, self.app, self._thread)
        finally:
            self._thread = None
            self._errors.uninstall()

    @property
    def running(self) -> bool:
        """Whether it is serving (started, not stopped, its event loop alive)."""
        return not self._stopped and self._thread is not None and self._thread.is_alive()

    def quiesce(self, timeout: float = GRACE_SECONDS) -> bool:
        """Wait until no request is being handled or queued, then close every connection still
        receiving or sending, and idle ones past :data:`KEPT_CONNECTIONS`; False (nothing
        closed) if requests were still running after ``timeout`` seconds.

        Why: a mock reused by the next test (the pytest plugin's shared server) must not hear a
        straggler of the previous one, a delayed request or half a request. An idle keep-alive
        connection carries nothing: it is kept, as any server keeps one between two requests,
        so a client the tests share does not reconnect for each (the reconnect and the close
        cost a test 0.3 ms), while a test that leaks clients cannot pile connections up."""
        dispatcher = self._server.task_dispatcher
        deadline = time.monotonic() + timeout
        # A worker that just wrote its answer is idle within microseconds once it gets the GIL:
        # yield it at first (sleep(0)), then back off to 1 ms waits for a request still running.
        pause = 0.0
        while True:
            with dispatcher.lock:
                busy = dispatcher.active_count > 0 or bool(dispatcher.queue)
            if not busy:
                break
            if time.monotonic() > deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2 or 0.00002, 0.001)
        # Read here, not in the loop's thread: no request is running, so nothing but new bytes
        # arriving changes a channel, and a channel that has them is not idle any more.
        idle: list[Any] = []
        doomed: list[Any] = []
        for channel in list(self._server.active_channels.values()):
            (idle if _idle(channel) else doomed).append(channel)
        doomed += idle[KEPT_CONNECTIONS:]
        if not doomed:
            return True
        closed = threading.Event()

        def close_connections() -> None:
            for channel in doomed:
                channel.handle_close()
            closed.set()

        _in_loop(self._server, self._thread, close_connections)
        return closed.wait(max(0.0, deadline - time.monotonic()) + 1.0)

    def restore(self) -> None:
        """Back to the state it started in: runs, journal, users, workflows, faults, rate-limit
        buckets, lockouts, Idempotency-Keys and the daily count forgotten, then the config's
        users and workflows applied again, in one commit (call :meth:`quiesce` first).

        A mock that served no request and committed nothing since it was last in that state is
        left as it is: every change to it comes through a request or a commit."""
        if self._fingerprint() == self._clean:
            return
        current_state(self.app).restore(self.app.config["USERS"], self.app.config["WORKFLOWS"])
        self._clean = self._fingerprint()

    def _fingerprint(self) -> tuple[int, int]:
        """Requests served and commits made so far: both unchanged means nothing changed."""
        return self._served.count, current_state(self.app).store.generation

    def __enter__(self) -> LiveMock:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
