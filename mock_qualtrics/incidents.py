"""Errors in the mock's threads, kept as one line each instead of a printed traceback.

A server thread that fails (a waitress worker, the store's writer, the event loop) would print a
traceback to stderr through ``threading.excepthook`` or the ``waitress`` logger's last-resort
handler, in the middle of a test's or a certification's output, where it reads as a crash. While
a :class:`ThreadErrors` is installed, such errors become one line each ("internal error in
<thread>: <exception>; rerun with QHARNESS_DEBUG=1 for the traceback"): kept in ``lines`` so that
the owner (the pytest plugin, certification, the CLI) can fail the run, and optionally echoed.
With ``QHARNESS_DEBUG=1`` the echo carries the traceback too.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections.abc import Callable
from types import TracebackType

__all__ = ["LOGGERS", "RepeatedErrors", "ThreadErrors", "describe"]

#: The loggers whose errors are the mock's threads' errors (waitress logs worker exceptions).
LOGGERS = ("waitress", "mock_qualtrics")
_HINT = "rerun with QHARNESS_DEBUG=1 for the traceback"


def describe(thread: str, exc: BaseException | None, message: str = "") -> str:
    """The one line for an error in ``thread``."""
    what = f"{type(exc).__name__}: {exc}" if exc is not None else message
    return f"internal error in {thread}: {what}; {_HINT}"


class _Handler(logging.Handler):
    def __init__(self, owner: ThreadErrors) -> None:
        super().__init__(logging.ERROR)
        self.owner = owner

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        tb = record.exc_info[2] if record.exc_info else None
        self.owner.record(record.threadName or "a thread", exc, tb, record.getMessage())


class _Installed:
    """The collectors installed now, and what the first one found (to restore after the last).

    Why one registry instead of each collector saving the hook it replaced: mocks stop in any
    order. With per-collector saving, stopping the first of two mocks before the second left
    ``threading.excepthook`` pointing at the stopped one (whose lines nobody reads) and turned
    logger propagation back on under the running one.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stack: list[ThreadErrors] = []
        self.hook: Callable[[threading.ExceptHookArgs], object] | None = None
        self.propagate: dict[str, bool] = {}

    def push(self, errors: ThreadErrors) -> None:
        with self.lock:
            if errors in self.stack:
                return
            if not self.stack:
                self.hook = threading.excepthook
                threading.excepthook = _dispatch
                for name in LOGGERS:
                    logger = logging.getLogger(name)
                    self.propagate[name] = logger.propagate
                    logger.propagate = False  # no last-resort traceback on stderr, no duplicate
            self.stack.append(errors)
            for name in LOGGERS:
                logging.getLogger(name).addHandler(errors.handler)
        # waitress warns of queue depth and slow shutdowns on stderr; those are not failures.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    def remove(self, errors: ThreadErrors) -> None:
        with self.lock:
            if errors not in self.stack:
                return
            self.stack.remove(errors)
            for name in LOGGERS:
                logging.getLogger(name).removeHandler(errors.handler)
            if self.stack:
                return
            if threading.excepthook is _dispatch:  # unless someone replaced it since
                threading.excepthook = self.hook or threading.__excepthook__
            for name, propagate in self.propagate.items():
                logging.getLogger(name).propagate = propagate
            self.hook, self.propagate = None, {}

    def collectors(self) -> list[ThreadErrors]:
        with self.lock:
            return list(self.stack)


_INSTALLED = _Installed()


def _dispatch(args: threading.ExceptHookArgs) -> None:
    """``threading.excepthook`` while any collector is installed: every installed one hears it
    (an outer one, the CLI's, as well as a mock's)."""
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "a thread"
    for errors in _INSTALLED.collectors():
        errors.record(name, args.exc_value, args.exc_traceback)


class ThreadErrors:
    """Collects thread errors while installed (a context manager, or install/uninstall).

    Collectors may be installed and uninstalled in any order: the hooks they share are put back
    as they were when the last one is uninstalled.
    """

    def __init__(self, echo: Callable[[str], None] | None = None) -> None:
        self.echo = echo
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self.handler: logging.Handler = _Handler(self)

    def record(
        self,
        thread: str,
        exc: BaseException | None,
        tb: TracebackType | None = None,
        message: str = "",
    ) -> None:
        line = describe(thread, exc, message)
        with self._lock:
            self.lines.append(line)
        if self.echo is not None:
            if os.environ.get("QHARNESS_DEBUG") and exc is not None:
                self.echo("".join(traceback.format_exception(type(exc), exc, tb)).rstrip())
            self.echo(line)

    def install(self) -> ThreadErrors:
        _INSTALLED.push(self)
        return self

    def uninstall(self) -> None:
        _INSTALLED.remove(self)

    def __enter__(self) -> ThreadErrors:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()


class RepeatedErrors:
    """Logs an error once, then counts its repeats instead of logging each one.

    Why: a store that cannot commit (a full disk) fails every group commit, hundreds a second;
    one line per commit buried everything else (about 330 identical lines a second). The first
    occurrence is logged at once; identical repeats are counted and summed up in one line when
    a different error comes, when :meth:`ok` says the trouble is over, or every ``every``
    seconds while it lasts.
    """

    def __init__(self, logger: logging.Logger, every: float = 60.0) -> None:
        self.logger = logger
        self.every = every
        self._last: str | None = None
        self._repeats = 0
        self._since = 0.0

    def error(self, message: str) -> None:
        """Log ``message``, unless it repeats the last one (then count it)."""
        now = time.monotonic()
        if message == self._last:
            self._repeats += 1
            if now - self._since >= self.every:
                self._summary("and it goes on")
                self._since = now
            return
        self._summary("then a different error")
        self.logger.error("%s", message)
        self._last, self._since = message, now

    def ok(self) -> None:
        """The operation succeeded: sum up the repeats of the last error, if any."""
        self._summary("then it succeeded")
        self._last = None

    def _summary(self, then: str) -> None:
        if self._repeats:
            self.logger.error("%s (%d more times; %s)", self._last, self._repeats, then)
        self._repeats = 0
