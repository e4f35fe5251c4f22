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
import traceback
from collections.abc import Callable
from types import TracebackType

__all__ = ["LOGGERS", "ThreadErrors", "describe"]

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


class ThreadErrors:
    """Collects thread errors while installed (a context manager, or install/uninstall)."""

    def __init__(self, echo: Callable[[str], None] | None = None) -> None:
        self.echo = echo
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._handler = _Handler(self)
        self._previous_hook: Callable[[threading.ExceptHookArgs], object] | None = None
        self._saved: list[tuple[logging.Logger, bool]] = []

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

    def _hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "a thread"
        self.record(name, args.exc_value, args.exc_traceback)
        previous = self._previous_hook
        if isinstance(getattr(previous, "__self__", None), ThreadErrors):
            previous(args)  # type: ignore[misc]  # an outer ThreadErrors (the CLI's) hears it too

    def install(self) -> ThreadErrors:
        self._previous_hook = threading.excepthook
        threading.excepthook = self._hook
        for name in LOGGERS:
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.propagate))
            logger.addHandler(self._handler)
            logger.propagate = False  # no last-resort traceback on stderr, no duplicate
        # waitress warns of queue depth and slow shutdowns on stderr; those are not failures.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        return self

    def uninstall(self) -> None:
        if threading.excepthook == self._hook:
            threading.excepthook = self._previous_hook or threading.__excepthook__
        for logger, propagate in self._saved:
            logger.removeHandler(self._handler)
            logger.propagate = propagate
        self._saved.clear()

    def __enter__(self) -> ThreadErrors:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()
