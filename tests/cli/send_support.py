"""Helpers for the CLI tests of ``send`` and ``outbox``: an activation aimed at a live mock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from connector.plugin import MockQualtrics

REPO = Path(__file__).resolve().parents[2]
LOCAL = REPO / "examples" / "local-activation.toml"
USER = "cx-team@example.com"
TOKEN = "tok-cli-7f3e9a"
AUDIENCE = "046456e3-18e1-48a6-9bda-d68547861283"


def activation_for(tmp_path: Path, trigger_url: str) -> Path:
    """The local example activation, its URL replaced by ``trigger_url``."""
    text = LOCAL.read_text(encoding="utf-8")
    start = text.index('url = "') + len('url = "')
    end = text.index('"', start)
    path = tmp_path / "activation.toml"
    path.write_text(text[:start] + trigger_url + text[end:], encoding="utf-8")
    return path


def workflow(mock: MockQualtrics, tmp_path: Path) -> tuple[dict[str, Any], Path]:
    mock.add_user(USER, TOKEN)
    flow = mock.create_workflow("CSAT", owner=USER)
    return flow, activation_for(tmp_path, flow["trigger_url"])


def profile(email: str, *, status: str = "realized") -> dict[str, Any]:
    return {
        "identityMap": {"Email": [{"id": email}]},
        "segmentMembership": {
            "ups": {AUDIENCE: {"status": status, "lastQualificationTime": "2024-05-01T10:00:00Z"}}
        },
    }


def jsonl(path: Path, lines: list[Any]) -> Path:
    path.write_bytes(
        b"".join(line if isinstance(line, bytes) else orjson.dumps(line) + b"\n" for line in lines)
    )
    return path
