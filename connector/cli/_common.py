"""Pieces every command shares: loading the activation, reporting warnings."""

from __future__ import annotations

from pathlib import Path

import click

from ..activation import Activation, load_activation, parse_activation
from ..example import bundled_activation_bytes

__all__ = ["ADMIN_TOKEN_ENV", "BUNDLED_ACTIVATION", "echo_warnings", "load_or_bundled"]

#: The environment variable holding a mock's admin token (`mock serve`, `runs`, `certify --mock`).
ADMIN_TOKEN_ENV = "QHARNESS_MOCK_ADMIN_TOKEN"  # noqa: S105 - a name, not a token  # nosec B105

#: Shown in messages and reports for the example that ships inside the wheel.
BUNDLED_ACTIVATION = "<bundled example: activation.toml>"


def load_or_bundled(path: str | None) -> Activation:
    """The activation at ``path``, or the bundled example when ``path`` is ``None``."""
    if path is not None:
        return load_activation(Path(path))
    data = bundled_activation_bytes()
    return parse_activation(
        data, source=BUNDLED_ACTIVATION.replace(">", "").replace("<", "") or "activation.toml"
    )


def echo_warnings(activation: Activation) -> None:
    for warning in activation.warnings:
        click.echo(f"warning: {warning}", err=True)
