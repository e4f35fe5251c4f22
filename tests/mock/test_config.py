"""The mock's config: one table of defaults, unknown keys refused, file and flags layered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.served import MOCK_TOKEN_ID, mock_file, serve

from mock_qualtrics import ConfigError, create_app, load_toml
from mock_qualtrics.config import DEFAULTS, from_tables
from mock_qualtrics.state import current_state

LIMITS = """
[limits]
payload_storage = "none"
run_delay = 0

[extensions]
idempotency_keys = true
"""


@pytest.mark.parametrize("key", ["RUN_DELAI", "run_delay", "Run_Delay", "STORE"])
def test_unknown_keys_are_refused_whatever_their_case(key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        create_app({key: 1})


def test_wrong_types_and_tables_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RATE_LIMIT"):
        create_app({"RATE_LIMIT": "many"})
    for text, where in (
        ("[limits]\nRUN_DELAY = 1\n", "limits.RUN_DELAY"),
        ("[limits]\ndatabase = 'x.db'\n", "limits.database"),
        ("[extensions]\nidempotency_keys = 1\n", "extensions.idempotency_keys"),
        ("[extensions]\ndedup = true\n", "extensions.dedup"),
        ("[limitz]\n", "limitz"),
    ):
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(ConfigError, match=re.escape(where)):
            load_toml(bad)


def test_every_limit_in_defaults_is_settable_from_a_file() -> None:
    """DEFAULTS is the only list: a new limit needs no second table to be configurable."""
    limits = {k.lower(): v for k, v in DEFAULTS.items() if isinstance(v, int | float | str)}
    limits = {k: v for k, v in limits.items() if not k.startswith(("extension_", "fidelity_"))}
    limits.pop("database")
    limits.pop("trust_proxy")  # a deployment fact (mock serve --trust-proxy), not a limit
    assert from_tables({"limits": limits}, "t") == {k.upper(): v for k, v in limits.items()}


def test_extension_is_off_by_default_and_on_from_the_file(tmp_path: Path) -> None:
    assert DEFAULTS["EXTENSION_IDEMPOTENCY_KEYS"] is False
    assert load_toml(mock_file(tmp_path / "m.toml", LIMITS))["EXTENSION_IDEMPOTENCY_KEYS"] is True


def test_a_big_config_loads_in_few_group_commits() -> None:
    """Upserting a big config commits once (or a few times), not once per workflow."""
    workflows = [
        {
            "id": f"WF{i}",
            "name": f"W{i}",
            "owner": "u",
            "url_token_id": f"{i:08d}-0000-4000-8000-000000000000",
        }
        for i in range(2_000)
    ]
    app = create_app({"USERS": [{"username": "u", "api_token": "t"}], "WORKFLOWS": workflows})
    try:
        store = current_state(app).store
        assert store.generation <= 2  # the start-up load, and the config in one op
        assert len(current_state(app).workflows()) == 2_000
    finally:
        current_state(app).store.close()


@pytest.fixture
def served_with_file(tmp_path: Path) -> Iterator[str]:
    config = mock_file(tmp_path / "m.toml", LIMITS)
    proc, url = serve("--workflows", str(config), "--db", str(tmp_path / "m.db"))
    try:
        yield url
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
        assert "Traceback" not in err


def test_serve_honours_the_files_limits(served_with_file: str) -> None:
    """Regression: ``[limits] payload_storage = "none"`` in --workflows was overridden by the
    flag's default, so every payload was stored although the team asked for none."""
    trigger = f"{served_with_file}/inbound-event/v1/events/json/triggers?urlTokenId={MOCK_TOKEN_ID}"
    with httpx.Client() as c:
        for _ in range(2):
            r = c.post(
                trigger, json={"a": 1}, headers={"X-API-TOKEN": "tok", "Idempotency-Key": "k"}
            )
            assert r.status_code == 202
        runs = c.get(f"{served_with_file}/__admin/workflows/WF/runs").json()["runs"]
    assert len(runs) == 1  # the file's [extensions] idempotency_keys = true
    assert runs[0]["payload"] is None
    assert runs[0]["status"] == "Succeeded"  # the file's run_delay = 0


def test_a_bad_config_names_the_item_and_saves_nothing(tmp_path: Path) -> None:
    """A config is validated whole before one commit: the error names the item."""
    db = str(tmp_path / "m.db")
    token = "0d7b5a8e-3f2c-4e61-a1b9-6c4d2e8f7a15"
    workflows = [
        {"id": "A", "name": "A", "owner": "u", "url_token_id": token},
        {"id": "B", "name": "B", "owner": "u", "url_token_id": token},
    ]
    with pytest.raises(
        ValueError, match=r"workflows\[1\]\.url_token_id: already used by workflow 'A'"
    ):
        create_app({"DATABASE": db, "WORKFLOWS": workflows})
    app = create_app({"DATABASE": db})
    try:
        assert current_state(app).workflows() == []
    finally:
        current_state(app).store.close()
