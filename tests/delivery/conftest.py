"""Fixtures for the delivery tests (plain helpers live in ``tests/support``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.activations import example_activation

from connector.activation import Activation


@pytest.fixture
def activation() -> Activation:
    return example_activation()


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"
