"""The destination a test delivers to: credentials, and a workflow on a live mock to aim at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connector.plugin import MockQualtrics

from .activations import activation_with_url

__all__ = [
    "FIELDS",
    "TOKEN",
    "TRIGGER",
    "URL_TOKEN_ID",
    "USER",
    "workflow",
    "workflow_with_activation",
]

#: The example activations' ``destination.username``.
USER = "cx-team@example.com"
#: A test API token: no output, report or error may ever contain it.
TOKEN = "tok-SECRET-9c2f4e7d1b"
#: The bundled example's urlTokenId: no output may contain it either.
URL_TOKEN_ID = "5f1c3a52-7d0e-4c1b-9a43-2b8e6f0d9c71"
#: The bundled example's trigger URL without its query (what a respx route matches).
TRIGGER = "https://iad1.qualtrics.com/inbound-event/v1/events/json/triggers"
#: The workflow's fields: what the example activation feeds, both required.
FIELDS = [
    {"name": "email", "jsonpath": "$.identityMap.Email[0].id", "required": True},
    {"name": "firstName", "jsonpath": "$.person.name.firstName", "required": True},
]


def workflow(mock: MockQualtrics, name: str = "Post-purchase CSAT") -> dict[str, Any]:
    """A workflow owned by ``USER`` (whose token is ``TOKEN``) on ``mock``."""
    mock.add_user(USER, TOKEN)
    return mock.create_workflow(name, owner=USER, fields=FIELDS)


def workflow_with_activation(mock: MockQualtrics, directory: Path) -> tuple[dict[str, Any], Path]:
    """``workflow(mock)`` and the bundled example activation aimed at its trigger URL."""
    flow = workflow(mock)
    return flow, activation_with_url(directory, flow["trigger_url"])
