"""Thread errors while several mocks run: each stop restores what its start found."""

from __future__ import annotations

import logging
import threading

from mock_qualtrics import LiveMock
from mock_qualtrics.incidents import LOGGERS, ThreadErrors


def _fail_in_a_thread(name: str) -> None:
    def boom() -> None:
        raise RuntimeError("boom")

    thread = threading.Thread(target=boom, name=name)
    thread.start()
    thread.join()


def _propagation() -> dict[str, bool]:
    return {name: logging.getLogger(name).propagate for name in LOGGERS}


def test_two_live_mocks_stopped_in_start_order_restore_the_hooks() -> None:
    """Stopping the first mock before the second leaves ``threading.excepthook`` and the
    loggers as they were before either started (a stale hook used to swallow later errors)."""
    hook, propagation = threading.excepthook, _propagation()
    first, second = LiveMock().start(), LiveMock().start()
    first.stop()
    assert not all(_propagation().values()), "the second mock still owns the loggers"
    second.stop()
    assert threading.excepthook is hook
    assert _propagation() == propagation


def test_errors_reach_every_installed_collector_whatever_the_stop_order() -> None:
    """While two collectors are installed both hear a thread error; after the outer one is
    removed first, the inner one still hears the next error, and the outer does not."""
    hook = threading.excepthook
    outer, inner = ThreadErrors().install(), ThreadErrors().install()
    try:
        _fail_in_a_thread("t-both")
        assert len(outer.lines) == len(inner.lines) == 1
        outer.uninstall()
        _fail_in_a_thread("t-inner")
        assert [line.split(":")[0] for line in inner.lines] == [
            "internal error in t-both",
            "internal error in t-inner",
        ]
        assert len(outer.lines) == 1
    finally:
        inner.uninstall()
        outer.uninstall()  # a second uninstall changes nothing
    assert threading.excepthook is hook
