"""Pieces every command shares: loading the activation, reporting warnings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:  # the activation loader (and its validators) only when a command loads one:
    from ..activation import Activation  # `mock serve` and `runs` never do
    from ..delivery.network import Network  # (and the trust store only when a command sends)

__all__ = [
    "ADMIN_TOKEN_ENV",
    "BUNDLED_ACTIVATION",
    "DEFAULT_STATE_DIR",
    "admin_token_env_option",
    "admin_token_fix",
    "allow_mock_host_option",
    "echo_warnings",
    "fidelity_config",
    "fidelity_option",
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


#: ``--fidelity FILE``: the mock answers as a ``qharness probe --record`` file observed.
fidelity_option = click.option(
    "--fidelity",
    "fidelity",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="A `qharness probe --record` file: the mock answers each probed case as observed.",
)


def fidelity_config(path: str | None, max_age_days: int | None = None) -> dict[str, Any]:
    """The mock config keys for ``--fidelity`` (``{}`` without it), the record checked now, so a
    record that is not one is one line and exit 2 before anything runs; an old one is warned of."""
    if path is None:
        return {}
    from mock_qualtrics.config import DEFAULTS
    from mock_qualtrics.fidelity import FidelityError, load_record

    from ..errors import UsageError

    try:
        record = load_record(path)
    except FidelityError as exc:
        raise UsageError(str(exc)) from None
    limit = int(DEFAULTS["FIDELITY_MAX_AGE_DAYS"]) if max_age_days is None else max_age_days
    stale = record.stale_warning(limit)
    if stale:
        click.echo(f"warning: {stale}", err=True)
    return {"FIDELITY_RECORD": path}


def network_options(command: F) -> F:
    """``--ca-bundle`` and ``--proxy``: how ``send``, ``test-destination`` and ``probe`` leave a
    company network (read them with :func:`network_of`)."""
    from ..delivery.network import CA_BUNDLE_ENV, PROXY_ENV

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
    from ..delivery.network import network_from

    from_command_line = ctx.get_parameter_source("proxy") is click.core.ParameterSource.COMMANDLINE
    return network_from(ca_bundle, proxy, proxy_from_command_line=from_command_line)


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
