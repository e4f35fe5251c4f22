"""The server-rendered UI through Flask's test client: views, filters, details, escaping."""

from __future__ import annotations

from typing import Any

from mock_helpers import WF, TriggerActions


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
