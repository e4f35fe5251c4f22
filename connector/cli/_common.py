"""Pieces every command shares: loading the activation, reporting warnings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..activation import Activation, load_activation, parse_activation
from ..delivery.network import CA_BUNDLE_ENV, PROXY_ENV, Network, network_from
from ..example import bundled_activation_bytes

__all__ = [
    "ADMIN_TOKEN_ENV",
    "BUNDLED_ACTIVATION",
    "DEFAULT_STATE_DIR",
    "echo_warnings",
    "load_or_bundled",
    "network_of",
    "network_options",
    "report_options",
    "seed_option",
    "state_option",
]

#: The environment variable holding a mock's admin token (`mock serve`, `runs`, `certify --mock`).
ADMIN_TOKEN_ENV = "QHARNESS_MOCK_ADMIN_TOKEN"  # noqa: S105 - a name, not a token  # nosec B105

#: Where `send` keeps its outbox and `outbox` looks for it, unless `--state` says otherwise.
DEFAULT_STATE_DIR = ".qharness-state"

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


def state_option(help: str) -> Callable[[F], F]:
    """``--state DIR``, defaulting to :data:`DEFAULT_STATE_DIR`: `send` writes there and
    `outbox` reads there, so the two must agree on the default."""
    return click.option(
        "--state",
        "state_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEFAULT_STATE_DIR,
        show_default=True,
        help=help,
    )


#: ``--seed N``: the number a certification prints so that the same run can be replayed.
seed_option = click.option(
    "--seed", type=click.IntRange(0), default=None, help="Replay a run (default: random, printed)."
)


def network_options(command: F) -> F:
    """``--ca-bundle`` and ``--proxy``: how ``send``, ``test-destination`` and ``probe`` leave a
    company network (read them with :func:`network_of`)."""
    command = click.option(
        "--proxy",
        envvar=PROXY_ENV,
        metavar="URL|env",
        help=f"Send through this HTTP CONNECT proxy (also ${PROXY_ENV}); 'env' uses $HTTPS_PROXY. "
        "The proxy sees only the host name; credentials only in the environment.",
    )(command)
    return click.option(
        "--ca-bundle",
        envvar=CA_BUNDLE_ENV,
        metavar="FILE",  # checked by network_from: one line that names the file and the problem
        help=f"PEM file of extra root certificates to trust besides the OS store (also "
        f"${CA_BUNDLE_ENV}), such as a company's TLS-inspecting proxy's root.",
    )(command)


def network_of(ctx: click.Context, ca_bundle: str | None, proxy: str | None) -> Network:
    """The checked ``Network`` of ``--ca-bundle`` and ``--proxy`` (``UsageError``: exit 2)."""
    from_command_line = ctx.get_parameter_source("proxy") is click.core.ParameterSource.COMMANDLINE
    return network_from(ca_bundle, proxy, proxy_from_command_line=from_command_line)
