"""``render``, ``validate`` and ``sample-profiles``: the offline commands (no network, no token)."""

from __future__ import annotations

import contextlib
import sys
import tomllib
from pathlib import Path
from typing import Any

import click

import contracts

from .. import exactjson
from ..errors import ContractViolation, UsageError
from ..profiles import open_input, parse_line, read_profiles
from ..render import Exclusion, Payload, Renderer
from ..sample import MAX_SAMPLES, sample_profiles
from ..validate import payload_violations, validator_for
from ._common import echo_warnings, load_or_bundled

__all__ = ["render", "sample_profiles_cmd", "validate"]


@click.command()
@click.argument("activation", type=click.Path(dir_okay=False))
@click.argument("profiles", required=False)
@click.pass_context
def render(ctx: click.Context, activation: str, profiles: str | None) -> None:
    """Render PROFILES (JSON Lines, or - for stdin) into Qualtrics payloads.

    Payloads go to stdout, one JSON object per line and nothing else; each profile that is not
    sent gets one line on stderr: `line N: <reason>: <detail>`. A profile with no activated
    audience in `realized` or `exited` state announces no change and is silently passed over.
    """
    if profiles is None:
        if sys.stdin.isatty():  # nothing piped in: waiting for typed JSON would look like a hang
            raise click.UsageError(
                "give PROFILES (a JSON Lines file, or - for stdin) or pipe them in"
            )
        profiles = "-"
    loaded = load_or_bundled(activation)
    echo_warnings(loaded)
    renderer = Renderer(loaded)
    out = sys.stdout.buffer
    failed = False
    with open_input(profiles) as stream:
        for line in read_profiles(stream):
            if line.error is not None:
                click.echo(f"line {line.number}: invalid-profile: $: {line.error}", err=True)
                continue
            try:
                result = renderer.render(line.profile)
            except ContractViolation as exc:
                failed = True
                click.echo(f"line {line.number}: contract-violation: {exc}", err=True)
                continue
            if isinstance(result, Payload):
                out.write(result.body + b"\n")
                out.flush()
            elif isinstance(result, Exclusion):
                click.echo(f"line {line.number}: {result}", err=True)
    if failed:
        ctx.exit(1)


@click.command()
@click.argument("payloads", nargs=-1, required=True)
@click.option(
    "--contract",
    type=click.Choice(contracts.CONTRACT_NAMES),
    default="qualtrics-event",
    show_default=True,
    help="The contract to check against.",
)
@click.pass_context
def validate(ctx: click.Context, payloads: tuple[str, ...], contract: str) -> None:
    """Check PAYLOAD files (one JSON document, or JSON Lines; - for stdin) against a contract.

    Every violation is printed with its JSON path. Event payloads are also held to Qualtrics'
    100 KB limit on the body as sent (counted in bytes of UTF-8). With --contract activation a file may be TOML, as
    activation files usually are. Exit 1 if any document is invalid.
    """
    invalid = 0
    for name in payloads:
        for where, raw in _documents(name, contract):
            try:
                document = _parse_document(raw, name, contract)
            except ValueError as exc:
                invalid += 1
                click.echo(f"{where}: $: {exc}")
                continue
            if contract == "qualtrics-event":
                problems = payload_violations(document, len(raw))
            else:
                validator = validator_for(contract)
                problems = [] if validator.is_valid(document) else validator.errors(document)
            if problems:
                invalid += 1
                for problem in problems:
                    click.echo(f"{where}: {problem}")
            else:
                click.echo(f"{where}: valid ({contract} {contracts.version(contract)})")
    if invalid:
        click.echo(f"{invalid} invalid document{'' if invalid == 1 else 's'}", err=True)
        ctx.exit(1)


def _parse_document(raw: bytes, name: str, contract: str) -> Any:
    """JSON; for the activation contract, TOML too (a ``.toml`` file, or anything not JSON)."""
    if contract != "activation" or name.lower().endswith(".json"):
        return parse_line(raw)
    if not name.lower().endswith(".toml"):
        try:
            return parse_line(raw)
        except ValueError:
            pass
    try:
        return tomllib.loads(raw.decode("utf-8").removeprefix("\ufeff"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not TOML: {exc}") from None


def _documents(name: str, contract: str = "") -> list[tuple[str, bytes]]:
    """A file's documents: the whole file if it is one JSON value (or a TOML activation), else
    each non-blank line."""
    label = "<stdin>" if name == "-" else name
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        raise UsageError(f"{name}: cannot read: {exc.strerror or exc}") from None
    body = data.strip()
    if contract == "activation" and not name.lower().endswith(".json"):
        with contextlib.suppress(ValueError):
            _parse_document(body, name, contract)
            return [(label, body)]
    try:
        parse_line(body)
    except ValueError:
        lines = [
            (n, raw.strip()) for n, raw in enumerate(data.splitlines(), start=1) if raw.strip()
        ]
        if len(lines) > 1:
            return [(f"{label}:{n}", raw) for n, raw in lines]
    return [(label, body)]


@click.command("sample-profiles")
@click.argument("activation", type=click.Path(dir_okay=False))
@click.option("--count", type=click.IntRange(1, MAX_SAMPLES), default=10, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same profiles.")
def sample_profiles_cmd(activation: str, count: int, seed: int) -> None:
    """AEP-format sample profiles for ACTIVATION as JSON Lines (like Adobe's sample-profile API)."""
    loaded = load_or_bundled(activation)
    echo_warnings(loaded)
    out = sys.stdout.buffer
    for profile in sample_profiles(loaded, count, seed=seed):
        out.write(exactjson.dumps(profile) + b"\n")  # 1.0E10 as written
