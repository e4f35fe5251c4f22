"""Pieces every command shares: loading the activation, reporting warnings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:  # the activation loader (and its validators) only when a command loads one:
    from ..activation import Activation  # `mock serve` and `runs` never do

__all__ = [
    "ADMIN_TOKEN_ENV",
    "BUNDLED_ACTIVATION",
    "DEFAULT_STATE_DIR",
    "admin_token_env_option",
    "admin_token_fix",
    "allow_mock_host_option",
    "echo_warnings",
    "load_or_bundled",
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
    from ..activation import load_activation, parse_activation
    from ..example import bundled_activation_bytes

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


def admin_token_env_option(command: F) -> F:
    """``--admin-token-env NAME``: where a command that talks to a mock reads its admin token.
    The token itself is never a flag, so that it stays out of argv and shell history."""
    return click.option(
        "--admin-token-env",
        default=ADMIN_TOKEN_ENV,
        show_default=True,
        metavar="NAME",
        help="Environment variable holding the mock's admin token, if it has one.",
    )(command)


def admin_token_fix(env_name: str, *, given: bool) -> str:
    """What to do when a mock refused its admin API: the variable to set, and the flag that
    names another one. ``given``: whether the variable held a token (then it was the wrong one)."""
    state = f"${env_name} is set but the mock refused it" if given else f"${env_name} is not set"
    return (
        f"{state}: export {env_name}=<the admin token the mock was started with> "
        "(or name another variable with --admin-token-env NAME)"
    )


def _mock_hosts(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    from ..delivery.urlguard import check_mock_host
    from ..errors import UrlGuardError

    try:
        return tuple(check_mock_host(name) for name in value)
    except UrlGuardError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


def allow_mock_host_option(command: F) -> F:
    """``--allow-mock-host NAME`` (repeatable): plain http to that named mock host is allowed,
    as to loopback with ``--allow-http-loopback`` (a CI job's service container, such as
    ``http://qualtrics-mock:8080``). Every other host stays behind the URL guard, and a
    Qualtrics host cannot be named. The value is ``allow_mock_hosts``, lowercased names."""
    return click.option(
        "--allow-mock-host",
        "allow_mock_hosts",
        multiple=True,
        metavar="NAME",
        callback=_mock_hosts,
        help="Allow plain http to this mock host name, as to loopback (repeatable; e.g. a CI "
        "service container, qualtrics-mock).",
    )(command)
