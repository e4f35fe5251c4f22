"""Fixtures for the certification tests: activations, broken renderers, the CLI."""

from __future__ import annotations

import pytest
from certify_helpers import EXAMPLES

from connector.activation import Activation, load_activation
from connector.cli import cli, main
from connector.cli._common import load_or_bundled
from connector.cli.certify import certify as certify_command
from connector.cli.certify import contracts_group

# Until the CLI registers them (idempotent once it does).
cli.commands.setdefault("certify", certify_command)
cli.commands.setdefault("contracts", contracts_group)


@pytest.fixture
def bundled() -> Activation:
    return load_or_bundled(None)


@pytest.fixture
def partner() -> Activation:
    """The partner example: its workflow requires order_id, which no mapping feeds."""
    return load_activation(EXAMPLES / "partner-activation.toml")


class Cli:
    """``qharness`` in-process through ``main``: (exit code, stdout, stderr)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(list(args))
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err


@pytest.fixture
def qharness(capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys)
