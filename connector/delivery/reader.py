"""The reader thread: profiles in, rendered items handed to the coordinator's inbox.

The reader iterates the profiles (a file, stdin behind ``tail -f``, or a list), renders each one
(a ``Payload`` rendered by the caller passes as it is) and hands the result over. It takes the next item only once a slot is free (so a large file
never sits in memory) and the run goes on (so a stopping run never strands an item the reader
took). An input that cannot be read ends the run with its error instead of hanging it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from ..activation import Activation
from ..errors import ContractViolation
from ..profiles import ProfileLine
from ..render import Exclusion, Payload, Renderer
from .inbox import INPUT_DONE, Crash, Inbox, Rendered

__all__ = ["render_item", "start_reader"]


def start_reader(activation: Activation, profiles: Iterable[Any], inbox: Inbox) -> threading.Thread:
    """Start reading ``profiles`` into ``inbox`` on a daemon thread; the caller joins it."""
    reader = threading.Thread(
        target=_read, args=(activation, profiles, inbox), name="qharness-reader", daemon=True
    )
    reader.start()
    return reader


def _read(activation: Activation, profiles: Iterable[Any], inbox: Inbox) -> None:
    """Take an item only once a slot is free and the run goes on, then hand it over."""
    renderer = Renderer(activation)
    items = iter(profiles)
    try:
        while inbox.take_slot():
            try:
                item = next(items)
            except StopIteration:
                inbox.release_slot()
                inbox.hand_over(INPUT_DONE)
                return
            inbox.hand_over(render_item(renderer, item))
    except BaseException as exc:  # an unreadable input must end the run, not hang it
        inbox.hand_over(Crash(exc))


def render_item(renderer: Renderer, item: Any) -> Rendered:
    """What one input item (a parsed object, a ``ProfileLine``, or a ``Payload`` rendered
    already) becomes. A caller that rendered its profiles (certification, which also needs the
    payloads to check the runs against) hands the payloads over: nothing is rendered twice."""
    if isinstance(item, Payload):
        return Rendered("payload", payload=item)
    profile = item
    source = ""
    if isinstance(item, ProfileLine):
        source = f"line {item.number}"
        if item.error is not None:
            return Rendered("input-error", reason="invalid-profile")
        profile = item.profile
    if not isinstance(profile, dict):
        return Rendered("input-error", reason="invalid-profile")
    try:
        result = renderer.render(profile, source=source)
    except ContractViolation:
        return Rendered("failed", reason="contract-violation")
    if isinstance(result, Payload):
        return Rendered("payload", payload=result)
    if isinstance(result, Exclusion):
        return Rendered("excluded", reason=result.reason)
    return Rendered("unchanged")
