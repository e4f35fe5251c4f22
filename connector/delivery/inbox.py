"""The coordinator's inbox: what the reader and the workers hand over, and the reader's slots.

Every other thread talks to the coordinator only through this inbox, so the coordinator alone
touches the outbox and the schedule. The reader may run at most ``max_ahead`` items ahead of
delivery (a slot per item, given back once the item is settled or stored without a slot), so a
large file never sits in memory. Once the run closes the inbox, a hand-over lands in ``unread``
instead: an item the reader took is never dropped silently.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from dataclasses import dataclass, field
from typing import Final

from ..render import Payload
from .client import Attempt
from .outbox import StoredEvent

__all__ = ["INPUT_DONE", "Batch", "Crash", "Inbox", "Rendered", "Returned"]


@dataclass(frozen=True, slots=True)
class Rendered:
    """One rendered input item: kind is ``payload``, ``excluded``, ``failed``, ``unchanged`` or
    ``input-error`` (a line that is not a JSON object)."""

    kind: str
    payload: Payload | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Returned:
    """A worker's attempt at ``event``; ``attempt`` is ``None`` when cancelled before sending."""

    event: StoredEvent
    attempt: Attempt | None


@dataclass(frozen=True, slots=True)
class Crash:
    """An error in another thread, raised again in the coordinator's."""

    error: BaseException


#: The reader's last message: the input is exhausted.
INPUT_DONE: Final = object()


@dataclass(slots=True)
class Batch:
    """What one coordinator turn collected from the inbox."""

    inputs: list[Rendered] = field(default_factory=list)
    results: list[Returned] = field(default_factory=list)
    input_done: bool = False


class Inbox:
    """A queue with a bounded number of reader slots, closed once when the run stops."""

    def __init__(self, max_ahead: int) -> None:
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._slots = threading.Semaphore(max_ahead)
        self._handoff = threading.Lock()
        self._closed = False
        #: Items handed over after ``close()`` (see ``Sender.run``).
        self.unread: list[object] = []
        #: Set when the run stops: the reader takes no more items, workers send nothing more.
        self.stop = threading.Event()

    def take_slot(self) -> bool:
        """Wait for a free slot (reader); ``False`` if the run stopped meanwhile."""
        self._slots.acquire()
        if self.stop.is_set():
            self._slots.release()
            return False
        return True

    def release_slot(self) -> None:
        """An item no longer counts against ``max_ahead`` (or: wake a reader waiting for one)."""
        self._slots.release()

    def hand_over(self, message: object) -> None:
        """The reader's hand-over: into the queue, or into ``unread`` once closed."""
        with self._handoff:
            if self._closed:
                self.unread.append(message)
            else:
                self._queue.put(message)

    def put(self, message: object) -> None:
        """A worker's result (or crash)."""
        self._queue.put(message)

    def collect(self, timeout: float) -> Batch:
        """Wait up to ``timeout`` for a message, then take everything else already queued.
        Raises another thread's crash."""
        batch = Batch()
        try:
            message: object = self._queue.get(timeout=timeout)
        except queue.Empty:
            return batch
        while True:
            if isinstance(message, Rendered):
                batch.inputs.append(message)
            elif isinstance(message, Returned):
                batch.results.append(message)
            elif isinstance(message, Crash):
                raise message.error
            elif message is INPUT_DONE:
                batch.input_done = True
            try:
                message = self._queue.get_nowait()
            except queue.Empty:
                return batch

    def close(self) -> list[Rendered]:
        """Refuse further hand-overs and return the rendered items still queued."""
        with self._handoff:
            self._closed = True
        leftovers: list[Rendered] = []
        with contextlib.suppress(queue.Empty):
            while True:
                message = self._queue.get_nowait()
                if isinstance(message, Rendered):
                    leftovers.append(message)
        return leftovers
