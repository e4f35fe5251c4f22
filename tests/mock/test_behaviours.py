"""GET /__admin/behaviours lists every behaviour with its source; the README shows the same."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from support.mock import WF, TriggerActions

from mock_qualtrics.behaviours import behaviours, markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"


def _by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in rows}


def test_every_behaviour_has_a_source(client: FlaskClient) -> None:
    """documented rows name their public page; the others say why they are assumed or added."""
    rows = client.get("/__admin/behaviours").get_json()
    assert {row["source"] for row in rows} == {"documented", "assumed", "extension"}
    assert len(rows) == len(_by_name(rows))  # names are unique
    for row in rows:
        assert set(row) == {"name", "value", "source", "reference"}
        assert row["source"] in ("documented", "assumed", "extension")
        assert row["reference"]
        if row["source"] == "documented":
            assert row["reference"].startswith("https://"), row


def test_the_undocumented_rules_are_labelled(client: FlaskClient) -> None:
    """Status codes Qualtrics does not name, the lockout, depth and burst are not 'documented'."""
    rows = _by_name(client.get("/__admin/behaviours").get_json())
    for name in (
        "status.forbidden",
        "status.not_found",
        "status.too_large",
        "status.unsupported_media_type",
        "limits.json_depth",
        "limits.rate_burst",
        "auth.lockout",
        "check_order",
        "runs.required_field_null_or_empty",
        "body.any_json",
        "trigger.older_url",
    ):
        assert rows[name]["source"] == "assumed", name
    for name in ("extensions.idempotency_keys", "runs.duplicate_of", "admin.faults"):
        assert rows[name]["source"] == "extension", name


def test_values_come_from_the_live_config(make_app: Any) -> None:
    client = make_app(RATE_BURST=7, MAX_JSON_DEPTH=5, LOCKOUT_FAILURES=4).test_client()
    rows = _by_name(client.get("/__admin/behaviours").get_json())
    assert rows["limits.rate_burst"]["value"] == 7
    assert rows["limits.json_depth"]["value"] == 5
    assert rows["auth.lockout"]["value"].startswith("4 failed authentications")


def test_readme_table_is_the_registry() -> None:
    """The README's table is what `python -m mock_qualtrics.behaviours` prints."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- behaviours:start -->\n(.*?)<!-- behaviours:end -->", text, re.S)
    assert match is not None, "README.md lost its behaviours table markers"
    assert match.group(1) == markdown_table()
    assert len(match.group(1).splitlines()) == len(behaviours()) + 2


def test_a_workflow_id_is_not_a_url_token(trigger: TriggerActions) -> None:
    """urlTokenId must be the workflow's token: its id there reaches no workflow (404)."""
    url = f"/inbound-event/v1/events/json/triggers?urlTokenId={WF}"
    assert trigger.post(url=url).status_code == 404
    assert trigger.events()[0]["outcome"] == "not-found"
