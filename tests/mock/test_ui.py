"""The server-rendered UI through Flask's test client: views, filters, details, escaping."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any

from support.mock import WF, TriggerActions, base_config

from mock_qualtrics import create_app
from mock_qualtrics.state import current_state


def test_index_lists_workflows(client: Any) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    assert "Test workflow" in r.get_data(as_text=True)


def test_two_qualtrics_views_and_detail(trigger: TriggerActions, client: Any) -> None:
    trigger.post()
    trigger.post(payload={"nothing": 1})
    runs = trigger.runs(wait_for=2, timeout=5)
    ok = client.get(f"/workflows/{WF}").get_data(as_text=True)
    assert "Successfully started with tasks run" in ok
    assert runs[1]["id"] in ok
    assert runs[0]["id"] not in ok
    failed = client.get(f"/workflows/{WF}?view=failed").get_data(as_text=True)
    assert runs[0]["id"] in failed
    assert runs[1]["id"] not in failed
    filtered = client.get(f"/workflows/{WF}?view=all&status=Failed").get_data(as_text=True)
    assert runs[0]["id"] in filtered
    assert runs[1]["id"] not in filtered
    detail = client.get(f"/runs/{runs[1]['id']}").get_data(as_text=True)
    assert "dave@example.com" in detail
    assert client.get("/runs/nope").status_code == 404
    assert client.get("/workflows/nope").status_code == 404
    assert "accepted" in client.get("/events").get_data(as_text=True)


def test_everything_is_escaped(trigger: TriggerActions, client: Any) -> None:
    evil = "<script>alert(1)</script>"
    client.patch(f"/__admin/workflows/{WF}", json={"name": evil})
    trigger.post(
        payload={"identityMap": {"Email": [{"id": evil}]}, "person": {"name": {"firstName": evil}}}
    )
    (run,) = trigger.runs(wait_for=1, timeout=5)
    for page in ("/", f"/workflows/{WF}", f"/runs/{run['id']}"):
        html = client.get(page).get_data(as_text=True)
        assert evil not in html
        assert "&lt;script&gt;" in html


def test_runs_of_a_deleted_workflow_stay_listed(tmp_path: Any) -> None:
    """A workflow gone from the store (runs kept in the SQLite file): "Deleted Workflow" in the UI."""
    db = str(tmp_path / "mock.db")
    first = create_app(base_config(DATABASE=db))
    t = TriggerActions(first.test_client())
    t.post()
    (run,) = t.runs(wait_for=1, timeout=5)
    current_state(first).store.close()
    with closing(sqlite3.connect(db)) as conn, conn:  # closed, and committed first
        conn.execute("DELETE FROM workflows WHERE id=?", (WF,))
    again = create_app(base_config(DATABASE=db, WORKFLOWS=()))
    try:
        client = again.test_client()
        index = client.get("/").get_data(as_text=True)
        assert "Deleted Workflow" in index
        assert f"/workflows/{WF}" in index
        page = client.get(f"/workflows/{WF}")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "Deleted Workflow: Run history" in text
        assert run["id"] in text
        detail = client.get(f"/runs/{run['id']}").get_data(as_text=True)
        assert "Deleted Workflow" in detail
        assert client.get("/workflows/never-existed").status_code == 404
    finally:
        current_state(again).store.close()


def test_duplicate_runs_are_marked_and_link_to_the_first(
    trigger: TriggerActions, client: Any
) -> None:
    """The same body twice makes two runs; the second's duplicate_of is a marker linking back."""
    trigger.post()
    trigger.post()
    second, first = trigger.runs(wait_for=2, timeout=5)
    assert second["duplicate_of"] == first["id"]
    text = client.get(f"/workflows/{WF}").get_data(as_text=True)
    assert f'href="/runs/{first["id"]}" title="same Idempotency-Key or body' in text
    assert text.count("duplicate of ") == 1
    assert "(extension)" in text
    detail = client.get(f"/runs/{second['id']}").get_data(as_text=True)
    assert 'id="duplicate-of"' in detail


def test_a_deleted_workflow_keeps_its_runs_in_the_ui(trigger: TriggerActions, client: Any) -> None:
    """DELETE /__admin/workflows/{id}: its runs list under "Deleted Workflow"."""
    trigger.post()
    (run,) = trigger.runs(wait_for=1, timeout=5)
    assert client.delete(f"/__admin/workflows/{WF}").status_code == 204
    assert "Deleted Workflow" in client.get("/").get_data(as_text=True)
    page = client.get(f"/workflows/{WF}").get_data(as_text=True)
    assert "Deleted Workflow: Run history" in page
    assert run["id"] in page
