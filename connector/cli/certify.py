"""``qharness certify`` (the main job) and ``qharness contracts diff``."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from ..activation import Activation
from ..certify import DEFAULT_EXAMPLES, CheckResult
from ..certify import certify as run_certification
from ..certify.reports import report_kind, write_report
from ..certify.runner import Certification, failed_input, failed_load
from ..contracts_diff import diff_schemas, load_schema
from ..errors import ActivationError, UsageError
from ._common import (
    ADMIN_TOKEN_ENV,
    BUNDLED_ACTIVATION,
    admin_token_env_option,
    allow_mock_host_option,
    echo_warnings,
    fidelity_config,
    fidelity_option,
    load_or_bundled,
    report_options,
    seed_option,
)
from .certify_checks import MockTidy, check_mock, check_mock_url, check_output_paths

__all__ = ["certify", "contracts_group", "reports_on_failed_load"]

_NAME_WIDTH = 28


def _echo_check(result: CheckResult, color: bool) -> None:
    label = "PASS" if result.passed else "FAIL"
    if color:
        label = click.style(label, fg="green" if result.passed else "red", bold=True)
    click.echo(f"{label}  {result.name:<{_NAME_WIDTH}} {result.evidence}")
    if not result.passed and result.details:
        for line in result.details.splitlines():
            click.echo(f"      {line}")


@click.command()
@click.argument("activation", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--examples",
    type=click.IntRange(1, 1_000_000),
    default=DEFAULT_EXAMPLES,
    show_default=True,
    help="Hypothesis-generated profiles for the property checks.",
)
@seed_option
@report_options
@click.option(
    "--mock",
    "mock_url",
    metavar="URL",
    help=(
        "Deliver into the mock at URL (default: an embedded mock on a free 127.0.0.1 port); "
        f"its admin token, if it has one, is read from ${ADMIN_TOKEN_ENV} (see --admin-token-env)."
    ),
)
@click.option(
    "--keep",
    is_flag=True,
    help="With --mock: leave the workflows certification created in the mock (default: delete).",
)
@fidelity_option
@admin_token_env_option
@allow_mock_host_option
@click.pass_context
def certify(
    ctx: click.Context,
    activation: str | None,
    examples: int,
    seed: int | None,
    junit: Path | None,
    report: Path | None,
    json_path: Path | None,
    mock_url: str | None,
    keep: bool,
    fidelity: str | None,
    admin_token_env: str,
    allow_mock_hosts: tuple[str, ...],
) -> None:
    """Certify ACTIVATION (default: the bundled example) against the Qualtrics contract.

    Checks that the activation loads and passes governance; that Hypothesis-generated AEP profiles
    (adversarial ones included) render without crashing into contract-valid payloads carrying
    every mapped value unchanged and nothing unmapped, with a documented reason for every
    exclusion and nothing over 100 KB; that every required workflow field resolves; and that
    delivery over real HTTP into the mock gives exactly one Succeeded run per event, a 401 for a
    wrong token, and survives an injected 429 and 503. No API token is needed.

    Exit 0 if every check passes, 1 if any fails, 2 for a usage or configuration error.
    """
    report_format = report_kind(report) if report is not None else None
    if fidelity is not None and mock_url is not None:
        raise UsageError(
            "--fidelity sets up the embedded mock; a mock given with --mock follows a record"
            " only if it was started with `qharness mock serve --fidelity FILE`"
        )
    mock_config = fidelity_config(fidelity)
    check_output_paths((("--junit", junit), ("--report", report), ("--json", json_path)))
    reports = ((junit, "junit"), (json_path, "json"), (report, report_format))
    if seed is None:
        seed = secrets.randbelow(2**32)
    with reports_on_failed_load(reports, seed=seed, examples=examples):
        loaded = load_or_bundled(activation)
    echo_warnings(loaded)
    if mock_url:
        check_mock_url(mock_url, allow_mock_hosts)
    admin_token = (os.environ.get(admin_token_env) or None) if mock_url else None
    tidy = (
        MockTidy(check_mock(mock_url, admin_token, admin_token_env))
        if mock_url and not keep
        else None
    )
    if mock_url and keep:
        check_mock(mock_url, admin_token, admin_token_env).close()
    color = sys.stdout.isatty()
    source = BUNDLED_ACTIVATION if activation is None else activation
    click.echo(
        f"certifying {source} (sha256 {loaded.sha256[:16]}), {examples} examples, seed {seed}, "
        f"mock: {mock_url or 'embedded'}"
    )
    try:
        result = run_certification(
            loaded,
            examples=examples,
            seed=seed,
            mock_url=mock_url,
            mock_admin_token=admin_token,
            mock_hosts=allow_mock_hosts,
            on_check=lambda check: _echo_check(check, color),
            mock_config=mock_config,
        )
    finally:
        if tidy is not None:
            click.echo(tidy.tidy())
    _conclude(ctx, result, color, reports)


@contextmanager
def reports_on_failed_load(
    reports: tuple[tuple[Path | None, str | None], ...],
    *,
    seed: int,
    examples: int,
    kind: type[Certification] = Certification,
    activation: Activation | None = None,
    check: str = "activation.load",
) -> Iterator[None]:
    """An activation that fails to load still gets the reports asked for, its problems as the
    failing ``activation.load`` case, so that CI shows the reason; the error then goes on (one
    line per problem, exit 2). With the loaded ``activation``, another input's usage error is
    the failing case ``check`` instead."""
    try:
        yield
    except UsageError as error:
        if isinstance(error, ActivationError):
            failed = failed_load(error, seed=seed, examples=examples, kind=kind)
        elif activation is not None:
            failed = failed_input(error, activation, check, seed=seed, examples=examples, kind=kind)
        else:
            raise
        for path, report_format in reports:
            if path is not None and report_format is not None:
                write_report(failed, path, report_format)
                click.echo(f"wrote {report_format} report: {path}", err=True)
        raise


def _conclude(
    ctx: click.Context,
    result: Certification,
    color: bool,
    reports: tuple[tuple[Path | None, str | None], ...],
) -> None:
    """The common end of ``certify`` and ``certify-sender``: the replay line, the reports, then
    the verdict as the last line, and exit 1 unless every check passed."""
    click.echo(f"seed {result.seed}; replay: {result.replay()}; {result.duration:.1f} s")
    for path, kind in reports:
        if path is not None and kind is not None:
            write_report(result, path, kind)
            click.echo(f"wrote {kind} report: {path}")
    summary = result.summary
    if color:
        summary = click.style(summary, fg="green" if result.passed else "red", bold=True)
    click.echo(summary)
    if not result.passed:
        ctx.exit(1)


@click.group("contracts")
def contracts_group() -> None:
    """Work with the JSON Schema contracts."""


@contracts_group.command("diff")
@click.argument("old")
@click.argument("new")
@click.pass_context
def diff(ctx: click.Context, old: str, new: str) -> None:
    """List the changes from contract OLD to NEW (files, or bundled contract names).

    Breaking changes (removed or renamed fields, narrowed types or enums, new required fields,
    tighter limits, closed additionalProperties) come first, each with its JSON-Schema path;
    non-breaking additions follow. Exit 1 if any change is breaking.
    """
    changes = diff_schemas(load_schema(old), load_schema(new))
    for change in changes:
        click.echo(str(change))
    breaking = sum(change.breaking for change in changes)
    click.echo(f"{breaking} breaking, {len(changes) - breaking} non-breaking change(s)")
    if breaking:
        ctx.exit(1)
