"""Pieces every command shares: loading the activation, reporting warnings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..activation import Activation, load_activation, parse_activation
from ..example import bundled_activation_bytes

__all__ = [
    "ADMIN_TOKEN_ENV",
    "BUNDLED_ACTIVATION",
    "echo_warnings",
    "load_or_bundled",
    "report_options",
]

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


F = TypeVar("F", bound=Callable[..., Any])


def report_options(command: F) -> F:
    """``--junit``, ``--report`` and ``--json``: the reports ``certify`` and ``certify-sender``
    both write, declared once so the two commands cannot drift apart."""
    command = click.option(
        "--json",
        "json_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write a JSON report.",
    )(command)
    command = click.option(
        "--report",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write a report to hand over: Markdown (.md) or HTML (.html), by the suffix.",
    )(command)
    return click.option(
        "--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write a JUnit XML report."
    )(command)
