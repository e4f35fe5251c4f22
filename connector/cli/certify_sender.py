"""``qharness certify-sender -- COMMAND``: certify a sender that is not ours."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Any

import click

from ..certify.reports import report_kind
from ..certify.sender import DEFAULT_PROFILES, DEFAULT_TIMEOUT, SenderCertification, load_scenario
from ..certify.sender import certify_sender as run_certify_sender
from ..certify.sender.feed import read_own_profiles
from ..certify.sender.process import check_command
from ..errors import UsageError
from ..example import bundled_activation_bytes
from ._common import (
    BUNDLED_ACTIVATION,
    echo_warnings,
    fidelity_config,
    fidelity_option,
    load_or_bundled,
    report_options,
    seed_option,
)
from .certify import _conclude, _echo_check, reports_on_failed_load
from .certify_checks import check_output_paths

__all__ = ["certify_sender"]


def _activation_bytes(path: str | None) -> bytes:
    if path is None:
        return bundled_activation_bytes()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path!r}: {exc.strerror or exc}") from None


@click.command(
    "certify-sender",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@click.option(
    "--activation",
    "activation_path",
    type=click.Path(dir_okay=False),
    help="The activation whose workflow the sender feeds (default: the bundled example).",
)
@click.option(
    "--profiles",
    type=click.IntRange(0, 1000),
    default=DEFAULT_PROFILES,
    show_default=True,
    help="Generated AEP profiles the sender must deliver, every one (0: only --profiles-file's).",
)
@click.option(
    "--profiles-file",
    "profiles_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Your own AEP profiles (JSON Lines, checked against aep-profile), fed first.",
)
@click.option(
    "--strict-numbers",
    is_flag=True,
    help="Also feed numbers no XDM type holds (1,000-digit integers, 1e400, 1.50).",
)
@click.option(
    "--byte-exact",
    is_flag=True,
    help="sender.values-unchanged also requires each number's text unchanged (1.0E10 stays so).",
)
@seed_option
@click.option(
    "--timeout",
    type=click.FloatRange(0.1),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds the sender may run; then it is ended with its process group.",
)
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A fault scenario of your own (TOML; default: the bundled one).",
)
@report_options
@fidelity_option
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def certify_sender(
    ctx: click.Context,
    activation_path: str | None,
    profiles: int,
    profiles_file: Path | None,
    strict_numbers: bool,
    byte_exact: bool,
    seed: int | None,
    timeout: float,
    scenario_path: Path | None,
    junit: Path | None,
    report: Path | None,
    json_path: Path | None,
    fidelity: str | None,
    command: tuple[str, ...],
) -> None:
    """Certify your own sender: COMMAND runs once against a faithful mock that plays faults.

    The harness generates AEP profiles, starts a mock of the Qualtrics JSON Event trigger with a
    workflow for the activation, and runs COMMAND with QHARNESS_TRIGGER_URL, QHARNESS_USERNAME,
    QHARNESS_API_TOKEN, QHARNESS_PROFILES (a JSON Lines file) and QHARNESS_ACTIVATION (a copy of
    the activation pointing at the mock) in its environment. While it runs, the mock answers some
    requests 503 or 429 (Retry-After: 2), drops a connection and loses one answer. What arrived is
    graded against the harness's own renderer: sender.exit, sender.auth, sender.contract-valid,
    sender.values-unchanged, sender.complete, sender.no-duplicates, sender.retry-after. The
    profiles carry what AEP exports for each attribute's XDM type (integers beyond 2^53, doubles
    as Java writes them, edge whitespace, 100 KB strings, arrays, objects), compared exactly.

    \b
    Examples:
      qharness certify-sender -- python3 examples/senders/well_behaved.py
      qharness certify-sender -- sh -c \\
        'qharness send "$QHARNESS_ACTIVATION" "$QHARNESS_PROFILES" --allow-http-loopback'

    Exit 0 if every check passes, 1 if any fails, 2 for a usage or configuration error.
    """
    report_format = report_kind(report) if report is not None else None
    check_output_paths((("--junit", junit), ("--report", report), ("--json", json_path)))
    reports = ((junit, "junit"), (json_path, "json"), (report, report_format))
    check_command(command)
    if profiles == 0 and profiles_file is None:
        raise UsageError("--profiles 0 feeds nothing: give --profiles-file FILE, or more profiles")
    if seed is None:
        seed = secrets.randbelow(2**32)
    mock_config = fidelity_config(fidelity)
    with reports_on_failed_load(reports, seed=seed, examples=profiles, kind=SenderCertification):
        loaded = load_or_bundled(activation_path)
    echo_warnings(loaded)
    with reports_on_failed_load(
        reports, seed=seed, examples=profiles, kind=SenderCertification,
        activation=loaded, check="sender.scenario",
    ):  # fmt: skip
        scenario = load_scenario(scenario_path)
    own: list[dict[str, Any]] = []
    if profiles_file is not None:
        with reports_on_failed_load(
            reports, seed=seed, examples=profiles, kind=SenderCertification,
            activation=loaded, check="sender.profiles-file",
        ):  # fmt: skip
            own = read_own_profiles(profiles_file)
    raw = _activation_bytes(activation_path)
    color = sys.stdout.isatty()
    source = BUNDLED_ACTIVATION if activation_path is None else activation_path
    click.echo(f"certifying a sender for {source} (sha256 {loaded.sha256[:16]}), "
               f"{profiles} profiles, seed {seed}")  # fmt: skip
    result = run_certify_sender(
        loaded,
        raw,
        command,
        scenario=scenario,
        profiles=profiles,
        seed=seed,
        timeout=timeout,
        strict_numbers=strict_numbers,
        byte_exact=byte_exact,
        own_profiles=own,
        on_check=lambda check: _echo_check(check, color),
        say=click.echo,
        mock_config=mock_config,
    )
    _conclude(ctx, result, color, reports)
