"""A store that keeps failing (a full disk) answers 503 and says so once, with a count."""

from __future__ import annotations

from pathlib import Path

import httpx
from support.mock import PAYLOAD, TOKEN, TOKEN_ID, USER, base_config

from mock_qualtrics import LiveMock
from mock_qualtrics.state import current_state


def _fill_the_disk(live: LiveMock, full: bool) -> None:
    """Make the store's file as good as full (SQLite's ``max_page_count``), or not."""
    store = current_state(live.app).store
    with store._db_lock:
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        store._db.execute(f"PRAGMA max_page_count = {pages if full else 1_073_741_823}")


def test_a_full_disk_is_logged_once_with_a_count(tmp_path: Path) -> None:
    """20 triggers on a full disk: every one 503, one line saying so; once the disk has room
    again, one more line says how many more times it happened (no longer a line per commit)."""
    with LiveMock(base_config(DATABASE=str(tmp_path / "mock.db"))) as live:
        url = f"{live.url}/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}"
        auth = (USER, TOKEN)
        _fill_the_disk(live, True)
        filler = {**PAYLOAD, "pad": "x" * 20_000}  # more than the pages left
        statuses = [httpx.post(url, json=filler, auth=auth).status_code for _ in range(20)]
        assert statuses == [503] * 20
        assert len(live.errors) == 1, live.errors
        assert "full" in live.errors[0]
        _fill_the_disk(live, False)
        assert httpx.post(url, json=PAYLOAD, auth=auth).status_code == 202
        assert len(live.errors) == 2, live.errors
        assert "19 more times; then it succeeded" in live.errors[1]
