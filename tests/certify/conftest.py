"""Fixtures for the certification tests: the bundled and the partner activations."""

from __future__ import annotations

import pytest
from support.paths import PARTNER_EXAMPLE

from connector.activation import Activation, load_activation
from connector.cli._common import load_or_bundled


@pytest.fixture
def bundled() -> Activation:
    return load_or_bundled(None)


@pytest.fixture
def partner() -> Activation:
    """The partner example: its workflow requires order_id, which no mapping feeds."""
    return load_activation(PARTNER_EXAMPLE)
