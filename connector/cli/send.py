"""``send`` and ``test-destination``: the two commands that talk to a real destination.

Both are thin: the delivery package applies the URL guard and reads the API token (only from the
environment variable the activation names, never a flag or a file); these commands parse flags,
print and pick the exit code. ``send`` streams through the durable outbox (``delivery.sender``)
and exits 0 only when everything read was delivered or excluded; ``test-destination`` sends a few
profiles once each, without the outbox (``delivery.probe``), and prints what Adobe's
destination-testing API would.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import click
import orjson

from .. import exactjson
from ..activation import Activation
from ..delivery.monitor import DeliveryReport
from ..delivery.options import KEEP_DELIVERED_DAYS, RETRY_POLICIES, DeliveryOptions
from ..delivery.outbox import DAY
from ..delivery.policy import AEP_RETRY_WAITS
from ..delivery.probe import probe_destination
from ..delivery.sender import Sender
from ..errors import AuthRejected, OutboxError
from ..profiles import ProfileLine, open_input, read_profiles
from ..sample import MAX_SAMPLES, sample_profiles
from ._common import (
    DEFAULT_STATE_DIR,
    allow_mock_host_option,
    echo_warnings,
    load_or_bundled,
    network_of,
    network_options,
    state_option,
)
from .input_lines import CheckedLines, input_size
from .outbox import dead_letter_hint
from .progress import SendProgress

__all__ = ["DEFAULT_STATE_DIR", "send", "test_destination"]

#: Where ``send`` keeps its outbox unless ``--state`` says otherwise (relative to the cwd).
#: Overrides the ``aep`` retry policy's waits (seconds, comma-separated), for tests and demos.
AEP_WAITS_ENV: Final = "QHARNESS_AEP_RETRY_WAITS"


@click.command()
@click.argument("activation", type=click.Path(dir_okay=False))
@click.argument("profiles")
@state_option("Directory of the durable outbox (created if missing; one sender at a time).")
@click.option(
    "--report-json", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here."
)
@click.option(
    "--max-skip-rate",
    type=click.FloatRange(0.0, 1.0),
    help="Fail (exit 1) when excluded/received is over this fraction; without it, only alert.",
)
@click.option(
    "--max-retry-time",
    type=click.FloatRange(0.0),
    default=600.0,
    show_default=True,
    help="Seconds to keep retrying one event in this run; then it stays pending (exit 1).",
)
@click.option(
    "--rate",
    type=click.FloatRange(0.0),
    default=40.0,
    show_default=True,
    help="Requests per second (token bucket); 0 lifts the limit.",
)
@click.option(
    "--max-in-flight",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="Requests in flight at once.",
)
@click.option(
    "--retry-policy",
    type=click.Choice(RETRY_POLICIES),
    default="harness",
    show_default=True,
    help="harness: backoff, dead letters, stop on 401/403. aep: Adobe's best effort for this "
    "destination (403, 408, 409, 429, 500, 502, 503, 504 retried twice, after 15 s and 30 s, "
    "then dropped; anything else dropped at once).",
)
@click.option(
    "--allow-http-loopback",
    is_flag=True,
    help="Allow plain http, only to 127.0.0.1, ::1 or localhost (the mock).",
)
@allow_mock_host_option
@click.option(
    "--accept-input-errors",
    is_flag=True,
    help="Lines that are not JSON objects are reported but do not fail the run (exit 0).",
)
@click.option(
    "--keep-delivered",
    type=click.FloatRange(0.0),
    default=KEEP_DELIVERED_DAYS,
    show_default=True,
    metavar="DAYS",
    help="Days a delivered event is remembered, so that the same input sent again is skipped; "
    "older ones are pruned as send runs (after that, the same input is sent again).",
)
@network_options
@click.pass_context
def send(
    ctx: click.Context,
    activation: str,
    profiles: str,
    state_dir: Path,
    report_json: Path | None,
    max_skip_rate: float | None,
    max_retry_time: float,
    rate: float,
    max_in_flight: int,
    retry_policy: str,
    allow_http_loopback: bool,
    allow_mock_hosts: tuple[str, ...],
    accept_input_errors: bool,
    keep_delivered: float,
    ca_bundle: str | None,
    proxy: str | None,
) -> None:
    """Stream PROFILES (JSON Lines, or - for stdin, as lines arrive) to ACTIVATION's workflow.

    Each event is written to the outbox in --state before it is sent and kept until the
    destination answers 2xx; a later run resumes what is pending, and input already delivered
    is skipped. Delivery is at-least-once: an event whose answer never came back (in flight at
    a kill, or the response lost) is resent and may start a second workflow run; the summary
    counts such resends. A line that is not a JSON object gets its own stderr line. Exit 0 when
    everything read was delivered or excluded; 1 when an event failed, was dropped or is still
    pending, a dead letter (of this run or an earlier one) waits in the outbox, a line was not a
    JSON object (unless --accept-input-errors), on 401/403, or over --max-skip-rate; 2 on usage
    errors, and when no line of PROFILES is a JSON object (the input is not JSON Lines).
    """
    loaded = load_or_bundled(activation)
    echo_warnings(loaded)
    # Every usage check before the input is opened, so that none of them leaks its file: the
    # retry waits, then the sender's own (the URL guard, then the token from the environment).
    network = network_of(ctx, ca_bundle, proxy)
    progress = SendProgress(sys.stderr)
    options = DeliveryOptions(
        network=network,
        keep_delivered=keep_delivered * DAY,
        allow_http_loopback=allow_http_loopback,
        allow_mock_hosts=allow_mock_hosts,
        rate_limit=rate or None,
        max_in_flight=max_in_flight,
        max_retry_time=max_retry_time,
        retry_policy=retry_policy,
        aep_retry_waits=_aep_waits() if retry_policy == "aep" else AEP_RETRY_WAITS,
        max_skip_rate=max_skip_rate,
        on_alert=progress.alert,
        on_progress=progress.update,
    )
    sender = Sender(loaded, state_dir=state_dir, options=options)
    sender.report.accept_input_errors = accept_input_errors
    stream = open_input(profiles)
    progress.start(input_size(stream))
    lines = CheckedLines(read_profiles(stream), stream, on_error=progress.note)
    lines.on_position = progress.read_to
    rejected: AuthRejected | OutboxError | None = None
    try:
        sender.run(lines)
    except (AuthRejected, OutboxError) as exc:  # the report so far is still worth writing
        rejected = exc
    finally:
        progress.finish()
        if stream is not sys.stdin.buffer:
            stream.close()
    report = sender.report
    if report_json is not None:
        _write_report(report_json, report)
    click.echo(f"send: {report.summary()}")
    if rejected is not None:
        raise rejected
    lines.raise_if_not_json_lines(profiles)
    if report.dead_lettered:
        for line in dead_letter_hint(report.dead_lettered, state_dir):
            click.echo(line, err=True)
    if report.ledger.input_errors and not accept_input_errors:
        click.echo(
            f"send: {_lines(report.ledger.input_errors)} not a JSON object (listed above); "
            "fix them, or pass --accept-input-errors to let such lines pass",
            err=True,
        )
    if not report.ok:
        ctx.exit(1)


def _lines(count: int) -> str:
    return "1 input line is" if count == 1 else f"{count} input lines are"


def _aep_waits() -> tuple[float, ...]:
    """Adobe's 15 s and 30 s, or ``$QHARNESS_AEP_RETRY_WAITS`` (seconds, comma-separated).

    The variable exists so that tests and demos can play Adobe's policy without waiting 45 s.
    """
    text = os.environ.get(AEP_WAITS_ENV, "").strip()
    if not text:
        return AEP_RETRY_WAITS
    try:
        waits = tuple(float(part) for part in text.split(","))
    except ValueError:
        waits = ()
    if not waits or any(not 0 <= wait <= 86_400 for wait in waits):
        raise click.UsageError(
            f"{AEP_WAITS_ENV}={text!r}: expected seconds separated by commas, such as 15,30"
        )
    return waits


def _write_report(path: Path, report: DeliveryReport) -> None:
    try:
        path.write_bytes(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2) + b"\n")
    except OSError as exc:
        click.echo(f"error: {path}: cannot write the report: {exc.strerror or exc}", err=True)


@click.command("test-destination")
@click.argument("activation", type=click.Path(dir_okay=False))
@click.argument("profiles", required=False)
@click.option(
    "--count",
    type=click.IntRange(1, MAX_SAMPLES),
    default=3,
    show_default=True,
    help="Sample profiles to generate when PROFILES is not given.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample profiles.")
@click.option(
    "--allow-http-loopback",
    is_flag=True,
    help="Allow plain http, only to 127.0.0.1, ::1 or localhost (the mock).",
)
@network_options
@allow_mock_host_option
@click.pass_context
def test_destination(
    ctx: click.Context,
    activation: str,
    profiles: str | None,
    count: int,
    seed: int,
    allow_http_loopback: bool,
    ca_bundle: str | None,
    proxy: str | None,
    allow_mock_hosts: tuple[str, ...],
) -> None:
    """Send a few profiles once each and print the result like Adobe's destination-testing API.

    Uses PROFILES (JSON Lines, or - for stdin) or --count sample profiles. Each call is made once,
    without the outbox and with a fresh Idempotency-Key (so a test never suppresses a later real
    send). The token and the urlTokenId are redacted. Exit 1 unless every call answered 2xx.
    """
    network = network_of(ctx, ca_bundle, proxy)
    loaded = load_or_bundled(activation)
    echo_warnings(loaded)
    label = "sample" if profiles is None else "line"  # one numbering style per run
    inputs = (
        (f"{label} {number}", profile)
        for number, profile in _test_inputs(loaded, profiles, count, seed)
    )
    result = probe_destination(
        loaded,
        inputs,
        allow_http_loopback=allow_http_loopback,
        allow_mock_hosts=allow_mock_hosts,
        network=network,
        on_note=_note,
    )
    sys.stdout.buffer.write(
        orjson.dumps(result.document(), option=orjson.OPT_INDENT_2, default=exactjson.fragment)
        + b"\n"
    )
    summary = result.summary()
    if summary is not None:
        click.echo(f"test-destination: {summary}", err=True)
    if not result.ok:
        ctx.exit(1)


def _note(line: str) -> None:
    click.echo(line, err=True)


def _test_inputs(
    activation: Activation, profiles: str | None, count: int, seed: int
) -> Iterator[tuple[int, Any]]:
    if profiles is None:
        yield from enumerate(sample_profiles(activation, count, seed=seed), start=1)
        return
    with open_input(profiles) as stream:
        line: ProfileLine
        for line in read_profiles(stream):
            if line.error is not None:
                click.echo(f"line {line.number}: invalid-profile: $: {line.error}", err=True)
                continue
            yield line.number, line.profile
