"""History kept at a cost that does not grow with its size: counters, eviction, cursors.

The counters (runs per workflow and status, journal rows) are kept by SQLite triggers beside the
rows; these tests hold them to what the rows say after every kind of write, and walk the run
lists and the UI by cursor. (Timings live in ``benchmarks/mock_history_scale.py``.)
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from support.mock import WF, TriggerActions
from support.ops import accepted

from mock_qualtrics import create_app, history
from mock_qualtrics.ops import Batch, Wipe
from mock_qualtrics.state import current_state
from mock_qualtrics.store import Store


def _counted_as_rows(db: sqlite3.Connection) -> None:
    grouped: dict[str, dict[str, int]] = {}
    for wf, status, n in db.execute(
        "SELECT workflow_id, status, COUNT(*) FROM runs GROUP BY workflow_id, status"
    ):
        grouped.setdefault(wf, {})[status] = n
    assert history.run_counts(db) == grouped
    assert history.event_count(db) == db.execute("SELECT COUNT(*) FROM events").fetchone()[0]


def _payload(i: int) -> dict[str, Any]:
    return {"identityMap": {"Email": [{"id": f"{i}@example.com"}]}}


@settings(max_examples=25, deadline=None)
@given(
    steps=st.lists(
        st.sampled_from(["ok", "failed", "reset", "delete", "rejected"]), min_size=1, max_size=30
    ),
    history_limit=st.integers(1, 4),
    journal_limit=st.integers(1, 6),
)
def test_counters_agree_with_the_rows_after_any_writes(
    tmp_path_factory: Any, steps: list[str], history_limit: int, journal_limit: int
) -> None:
    """Accepted, failed and rejected triggers, resets and deletions leave counts = rows, and the
    bounds are kept exactly: the newest ``history_limit`` runs, the newest journal rows."""
    from support.mock import base_config

    path = tmp_path_factory.mktemp("h") / "mock.db"
    app = create_app(
        base_config(DATABASE=str(path), HISTORY_LIMIT=history_limit, JOURNAL_LIMIT=journal_limit)
    )
    client = app.test_client()
    t = TriggerActions(client)
    sent: list[str] = []
    try:
        for i, step in enumerate(steps):
            if step == "ok":
                assert t.post(payload=_payload(i)).status_code == 202
                sent.append(f"{i}@example.com")
            elif step == "failed":  # a required field missing: the run fails
                assert t.post(payload={"other": i}).status_code == 202
                sent.append("")
            elif step == "rejected":
                assert t.post(payload=_payload(i), token="wrong").status_code == 401
            elif step == "reset":
                assert client.post("/__admin/reset", json={}).status_code in (200, 204)
                sent.clear()
            else:
                current_state(app).store.flush()
        runs = t.runs(limit=100)
        kept = sent[-history_limit:][::-1]
        assert [r["fields"].get("email", "") for r in runs] == kept
        assert len(t.events()) <= journal_limit
        with closing(sqlite3.connect(path)) as db, db:
            _counted_as_rows(db)
    finally:
        current_state(app).store.close()


def test_a_file_from_before_the_counters_is_counted_when_opened(tmp_path: Path) -> None:
    """A database written by an older mock (no counters) gets them, filled from its rows."""
    from support.mock import base_config

    path = tmp_path / "old.db"
    app = create_app(base_config(DATABASE=str(path)))
    t = TriggerActions(app.test_client())
    for i in range(3):
        t.post(payload=_payload(i))
    t.post(payload={"other": 1})
    current_state(app).store.close()
    with closing(sqlite3.connect(path)) as db, db:  # as an older mock left it
        for name in ("runs_counted", "runs_uncounted", "runs_recounted"):
            db.execute(f"DROP TRIGGER {name}")
        db.execute("DROP TRIGGER events_counted")
        db.execute("DROP TRIGGER events_uncounted")
        db.execute("DROP TABLE run_counts")
        db.execute("DROP TABLE event_count")
    app = create_app(base_config(DATABASE=str(path)))
    try:
        assert current_state(app).store.run_counts() == {WF: {"Succeeded": 3, "Failed": 1}}
        with closing(sqlite3.connect(path)) as db, db:
            _counted_as_rows(db)
    finally:
        current_state(app).store.close()


def test_the_before_cursor_pages_through_every_run_once(
    trigger: TriggerActions, client: FlaskClient
) -> None:
    """``before=<run id>`` gives the runs older than that run: pages neither skip nor repeat."""
    for i in range(7):
        trigger.post(payload=_payload(i))
    everything = [r["id"] for r in trigger.runs(limit=100)]
    seen: list[str] = []
    page = trigger.runs(limit=3)
    for _ in range(5):  # bounded: a cursor that were ignored would repeat the first page forever
        seen += [r["id"] for r in page]
        if not page:
            break
        page = trigger.runs(limit=3, before=page[-1]["id"])
    assert seen == everything
    assert len(everything) == 7
    listed = client.get("/__admin/runs", query_string={"limit": 2, "before": everything[4]})
    assert [r["id"] for r in listed.get_json()["runs"]] == everything[5:7]


def test_an_unknown_before_cursor_is_a_404_naming_it(client: FlaskClient) -> None:
    for url in (f"/__admin/workflows/{WF}/runs", "/__admin/runs"):
        answer = client.get(url, query_string={"before": "no-such-run"})
        assert answer.status_code == 404
        assert "'no-such-run'" in answer.get_json()["meta"]["error"]["errorMessage"]


def test_the_ui_walks_older_and_newer_by_cursor(
    trigger: TriggerActions, client: FlaskClient
) -> None:
    """Older then Newer links cover every run once and come back to the first page."""
    from mock_qualtrics import ui

    total = ui.PAGE * 2 + 5
    for i in range(total):
        trigger.post(payload=_payload(i))
    url: str | None = f"/workflows/{WF}?view=all"
    pages: list[list[str]] = []
    while url is not None:
        html = client.get(url).get_data(as_text=True)
        pages.append(re.findall(r'href="/runs/([^"]+)"', html))
        older = re.search(r'<a href="([^"]+)">Older</a>', html)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert [len(p) for p in pages] == [ui.PAGE, ui.PAGE, 5]
    ids = [run_id for page in pages for run_id in page]
    assert ids == [r["id"] for r in trigger.runs(limit=1000)]
    first = client.get(f"/workflows/{WF}?view=all").get_data(as_text=True)
    assert "Newer</a>" not in first
    oldest = client.get(f"/workflows/{WF}?view=all&before=0").get_data(as_text=True)
    assert "Older</a>" not in oldest
    for mangled in ("x", str(2**70), "-" + str(2**70)):  # the newest page, never an error
        answer = client.get(f"/workflows/{WF}?view=all&before={mangled}&after={mangled}")
        assert answer.status_code == 200
        assert re.findall(r'href="/runs/([^"]+)"', answer.get_data(as_text=True)) == pages[0]
    # From the last page, Newer leads back to the middle page.
    last = client.get(f"/workflows/{WF}?view=all&before={_seq(client, pages[1][-1])}")
    back = re.search(r'<a href="([^"]+)">Newer</a>', last.get_data(as_text=True))
    assert back is not None
    middle = client.get(back.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert re.findall(r'href="/runs/([^"]+)"', middle) == pages[1]


def _seq(client: FlaskClient, run_id: str) -> int:
    store = current_state(client.application).store
    cursor = store.run_cursor(run_id)
    assert cursor is not None
    return cursor


def test_runs_left_queued_by_a_killed_mock_fail_at_the_next_start(tmp_path: Path) -> None:
    """The counters say whether any run is queued; a queued one still fails, saying why."""
    from mock_qualtrics.store import Store

    path = str(tmp_path / "mock.db")
    Store(path, history_limit=10, journal_limit=10, retention_days=30).close()
    with (
        closing(sqlite3.connect(path)) as db,
        db,
    ):  # what a kill -9 leaves: a run that never started
        db.execute(
            "INSERT INTO runs (id, workflow_id, request_id, status, received_at, received_ts,"
            " fields) VALUES ('r1', 'WF', 'q1', 'queued', '2026-01-01T00:00:00Z', 1.0, '{}')"
        )
    store = Store(path, history_limit=10, journal_limit=10, retention_days=30)
    try:
        (run,) = store.list_runs("WF")
        assert run["status"] == "Failed"
        assert run["error"] == "the mock stopped before this run started"
        assert store.run_counts() == {"WF": {"Failed": 1}}
    finally:
        store.close()


def test_a_row_replaced_on_conflict_is_uncounted_too() -> None:
    """``INSERT OR REPLACE`` deletes the row it replaces: the counters see that delete."""
    with closing(sqlite3.connect(":memory:", isolation_level=None)) as db:
        history.open_schema(db)
        insert = (
            "INSERT OR REPLACE INTO runs (id, workflow_id, request_id, status, received_at,"
            " received_ts, fields) VALUES ('r1', 'WF', 'q1', ?, '2026-01-01T00:00:00Z', 1.0, '{}')"
        )
        db.execute(insert, ("queued",))
        db.execute(insert, ("Succeeded",))
        _counted_as_rows(db)
        assert history.run_counts(db) == {"WF": {"Succeeded": 1}}


def test_the_admin_client_pages_by_cursor(mock_qualtrics: Any) -> None:
    """``MockAdmin.runs_page(before=...)``, through the plugin's fixture over real HTTP."""
    import httpx

    mock_qualtrics.add_user("u", "t")
    wf = mock_qualtrics.create_workflow("W", "u")
    for i in range(5):
        answer = httpx.post(wf["trigger_url"], json={"n": i}, headers={"X-API-TOKEN": "t"})
        assert answer.status_code == 202
    everything = [r["id"] for r in mock_qualtrics.runs(wf["id"], wait_for=5)]
    older, _ = mock_qualtrics.runs_page(wf["id"], limit=2, before=everything[1])
    assert [r["id"] for r in older] == everything[2:4]


@pytest.mark.parametrize(("rows", "schema_changes"), [(3, False), (history._SMALL + 1, True)])
def test_a_wipe_leaves_the_counters_counting(
    tmp_path: Path, rows: int, schema_changes: bool
) -> None:
    """A wipe zeroes the counters and they count what comes next. Only a large history is
    deleted with the counting triggers dropped (a schema change, which makes every connection
    prepare its statements again); a small one, the pytest plugin's between two tests, keeps
    them."""
    path = tmp_path / "mock.db"
    store = Store(str(path), history_limit=5000, journal_limit=5000, retention_days=30)
    try:
        store.run(Batch(tuple(accepted(n, workflow_id=WF) for n in range(rows))))
        with closing(sqlite3.connect(path)) as db:
            before = db.execute("PRAGMA schema_version").fetchone()[0]
        store.run(Wipe(everything=False))
        store.run(Batch((accepted(rows, workflow_id=WF), accepted(rows + 1, workflow_id=WF))))
        with closing(sqlite3.connect(path)) as db:
            assert (db.execute("PRAGMA schema_version").fetchone()[0] != before) is schema_changes
            assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2
            _counted_as_rows(db)
    finally:
        store.close()
