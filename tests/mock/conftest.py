"""Shared fixtures of the mock's tests: app -> client -> TriggerActions, and a live mock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from support.mock import TriggerActions, base_config

from mock_qualtrics import LiveMock, create_app
from mock_qualtrics.state import current_state


@pytest.fixture
def app() -> Iterator[Flask]:
    app = create_app(base_config())
    yield app
    current_state(app).store.close()


@pytest.fixture
def make_app() -> Iterator[Any]:
    """A factory for apps with other settings; every one is closed at the end."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        made.append(create_app(base_config(**overrides)))
        return made[-1]

    yield make
    for app in made:
        current_state(app).store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def trigger(client: FlaskClient) -> TriggerActions:
    return TriggerActions(client)


@pytest.fixture
def live() -> Iterator[LiveMock]:
    with LiveMock(base_config()) as mock:
        yield mock


@pytest.fixture
def admin(live: LiveMock) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=40) as client:
        yield client
