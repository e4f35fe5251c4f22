"""Where things are: the repository, its bundled examples and the test suite's own fixtures."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "EXAMPLE",
    "EXAMPLES",
    "FIXTURES",
    "LOCAL_EXAMPLE",
    "PARTNER_EXAMPLE",
    "README",
    "REPO",
    "TESTS",
    "WORKFLOWS",
]

TESTS = Path(__file__).resolve().parent.parent
REPO = TESTS.parent
README = REPO / "README.md"
EXAMPLES = REPO / "examples"
#: The bundled activation (``qharness certify`` with no argument certifies it).
EXAMPLE = EXAMPLES / "activation.toml"
#: The activation the README's local loop aims at a mock on 127.0.0.1.
LOCAL_EXAMPLE = EXAMPLES / "local-activation.toml"
#: The partner example: its workflow requires ``order_id``, which no mapping feeds.
PARTNER_EXAMPLE = EXAMPLES / "partner-activation.toml"
#: The mock's example workflows file (``qharness mock serve --workflows``).
WORKFLOWS = EXAMPLES / "workflows.toml"
FIXTURES = TESTS / "fixtures"
