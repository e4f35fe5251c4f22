"""``send``'s progress: Click's progress bar on a terminal, a plain line now and then elsewhere.

On a terminal, reading a file shows a bar with the percentage and the ETA: the bytes read, scaled
by the share of the lines read so far whose fate is settled (the reader runs ahead of delivery,
so bytes alone would reach 100% long before the end); stdin has no known size, so the bar shows
counts and a rate. Anywhere else (CI logs, a pipe) a plain
``progress: ...`` line comes at most every ``PLAIN_EVERY`` seconds, never a control character.
Every line says why events are waiting when they are (``last error: connection refused``).
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import TYPE_CHECKING, Final, TextIO

import click

from ..delivery.monitor import Alert, DeliveryReport

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

__all__ = ["PLAIN_EVERY", "SendProgress"]

#: Plain (non-terminal) progress lines come at most this often, in seconds.
PLAIN_EVERY: Final = 10.0


class SendProgress:
    """Shows a run's progress on ``stream`` from ``start``; ``read_to(n)`` is called as input
    bytes are read."""

    def __init__(self, stream: TextIO) -> None:
        # Built before the input is opened (its callbacks go into the sender's options, and the
        # sender's usage checks come first); ``start`` draws the bar once the size is known.
        self._stream = stream
        self._started = time.monotonic()
        self._last_plain = self._started
        self._read = 0
        self._report: DeliveryReport | None = None
        self._lock = threading.Lock()  # notes come from the reader thread, updates from another
        self._bar: ProgressBar[int] | None = None

    def start(self, total_bytes: int | None) -> None:
        """The input is open: ``total_bytes`` is its size (``None``: unknown, such as stdin)."""
        self._started = self._last_plain = time.monotonic()
        if self._stream.isatty():
            # Without a size, an endless iterable: Click then shows counts and no percentage.
            self._bar = click.progressbar(
                itertools.count() if total_bytes is None else None,
                length=total_bytes,
                label="send",
                file=self._stream,
                show_percent=total_bytes is not None,
                show_eta=total_bytes is not None,
                show_pos=False,
                item_show_func=self._describe,
            )
            self._bar.render_progress()

    def read_to(self, position: int) -> None:
        """The reader has consumed ``position`` bytes of the input (any thread)."""
        self._read = position

    def update(self, report: DeliveryReport) -> None:
        """Called by the sender every half second or so (the coordinator's thread)."""
        self._report = report
        if self._bar is not None:
            with self._lock:
                step = self._settled_bytes(report) - self._bar.pos if self._bar.length else 1
                self._bar.update(max(step, 0), report.profiles_received)
        elif time.monotonic() - self._last_plain >= PLAIN_EVERY:
            self._last_plain = time.monotonic()
            self._write(f"progress: {self._counts(report)}")

    def note(self, line: str) -> None:
        """A line of its own (an input error, an alert) above the bar."""
        self._write(line)

    def alert(self, alert: Alert) -> None:
        self.note(str(alert))

    def finish(self) -> None:
        """Remove the bar and show the cursor Click hid (the summary follows on stdout)."""
        with self._lock:
            if self._bar is not None:
                self._stream.write("\r\x1b[2K\x1b[?25h")
                self._stream.flush()
                self._bar = None

    def _write(self, line: str) -> None:
        with self._lock:
            if self._bar is not None:
                self._stream.write("\r\x1b[2K")
            self._stream.write(f"{line}\n")
            self._stream.flush()
            if self._bar is not None:
                self._bar.render_progress()

    def _settled_bytes(self, report: DeliveryReport) -> int:
        ledger = report.ledger
        settled = (
            ledger.delivered
            + ledger.dead
            + ledger.already_delivered
            + ledger.already_dead
            + ledger.input_errors
            + ledger.unchanged
            + report.excluded.total()
            + report.failed.get("contract-violation", 0)
        )
        received = report.profiles_received
        return int(self._read * settled / received) if received else 0

    def _describe(self, _: int | None) -> str:
        return "" if self._report is None else self._counts(self._report)

    def _counts(self, report: DeliveryReport) -> str:
        elapsed = max(time.monotonic() - self._started, 1e-9)
        text = (
            f"{report.profiles_received} received, {report.identities_activated} delivered, "
            f"{report.excluded.total()} excluded, {report.retries} retries, "
            f"{report.identities_activated / elapsed:.0f} delivered/s"
        )
        if report.last_error is not None and report.retries:
            text += f"; last error: {report.last_error}"
        return text
