"""Fixtures for the delivery tests (helpers live in ``delivery_helpers``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from delivery_helpers import example_activation

from connector.activation import Activation


@pytest.fixture
def activation() -> Activation:
    return example_activation()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"
