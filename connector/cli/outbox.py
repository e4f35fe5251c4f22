"""``qharness outbox``: see and repair what ``send`` left in its state directory.

``status`` counts events by state (and dead letters by reason); ``dead`` lists the dead letters
with their reason, HTTP status and time; ``retry`` makes them pending again, so the next ``send``
delivers them first; ``purge`` drops them (after a confirmation, or with ``--yes``). ``send``
points here whenever a dead letter remains, since a run never says "success" while one does.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
import orjson

from ..delivery.dead_letters import StateDir
from ..errors import UsageError
from ._common import DEFAULT_STATE_DIR, state_option

__all__ = ["dead_letter_hint", "outbox"]


_REASON = click.option(
    "--reason",
    metavar="R",
    help="Only dead letters with this HTTP status (400) or whose reason starts with R.",
)


def dead_letter_hint(count: int, state_dir: Path, *, named: int = 3) -> list[str]:
    """What ``send`` prints while dead letters remain: how many, the first few by event id and
    reason, and the command to run next."""
    state = "" if str(state_dir) == DEFAULT_STATE_DIR else f" --state {state_dir}"
    noun = "dead letter waits" if count == 1 else "dead letters wait"
    lines = [
        f"send: {count} {noun} in the outbox (of this run or an earlier one); list them with "
        f"`qharness outbox{state} dead`, then `retry` or `purge` them"
    ]
    try:
        with StateDir(state_dir) as state_files:
            first = state_files.dead_letters()[:named]
    except UsageError:  # another sender took the directory meanwhile: the count says enough
        return lines
    lines += [f"  dead letter {row.event_id}: {_short(row.reason)}" for row in first]
    if count > len(first):
        lines.append(f"  ... and {count - len(first)} more")
    return lines


def _short(reason: str, limit: int = 160) -> str:
    return reason if len(reason) <= limit else reason[: limit - 3] + "..."


@click.group()
@state_option("The state directory `send --state` used.")
@click.pass_context
def outbox(ctx: click.Context, state_dir: Path) -> None:
    """Show or repair send's outbox: counts, dead letters, retry or purge them."""
    ctx.obj = state_dir


@outbox.command()
@click.pass_obj
def status(state_dir: Path) -> None:
    """Events by state (pending, delivered, dead) per destination's outbox file."""
    with StateDir(state_dir) as state:
        counts = state.counts()
    if not counts:
        click.echo(f"{state_dir}: no outbox yet (nothing was sent with this --state)")
        return
    for entry in counts:
        click.echo(
            f"{entry.path}: {entry.pending} pending, {entry.delivered} delivered, {entry.dead} dead"
        )
        for reason, count in entry.dead_by_reason:
            click.echo(f"  dead: {count} x {reason}")


@outbox.command()
@_REASON
@click.option("--json", "as_json", is_flag=True, help="One JSON object per dead letter.")
@click.pass_obj
def dead(state_dir: Path, reason: str | None, as_json: bool) -> None:
    """Dead letters, oldest first: event id, HTTP status, time and reason."""
    with StateDir(state_dir) as state:
        rows = state.dead_letters(reason)
    for row in rows:
        when = datetime.fromtimestamp(row.dead_at, UTC).isoformat(timespec="seconds")
        if as_json:
            record = {
                "event_id": row.event_id,
                "status_code": row.status_code,
                "reason": row.reason,
                "dead_at": when,
                "outbox": str(row.path),
            }
            sys.stdout.buffer.write(orjson.dumps(record) + b"\n")
        else:
            click.echo(f"{row.event_id}  {row.status_code or '-'}  {when}  {row.reason}")
    if not as_json:
        click.echo(f"{len(rows)} dead letter{'' if len(rows) == 1 else 's'}", err=True)


@outbox.command()
@_REASON
@click.pass_obj
def retry(state_dir: Path, reason: str | None) -> None:
    """Move dead letters (all, or --reason R) back to pending; the next send sends them first."""
    with StateDir(state_dir) as state:
        moved = state.retry(reason)
    click.echo(
        f"outbox: {moved} dead letter{'' if moved == 1 else 's'} moved back to pending"
        + ("; the next `qharness send` sends them first" if moved else "")
    )


@outbox.command()
@_REASON
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def purge(state_dir: Path, reason: str | None, yes: bool) -> None:
    """Drop dead letters (all, or --reason R) and their payloads, after a confirmation."""
    with StateDir(state_dir) as state:
        count = len(state.dead_letters(reason))
        if count and not yes:
            question = (
                f"drop {count} dead letter{'' if count == 1 else 's'} and their payloads "
                "(a later send of the same profiles sends them again)?"
            )
            if not sys.stdin.isatty():
                raise UsageError(f"outbox purge would {question[:-1]}: confirm with --yes")
            if not click.confirm(question, default=False):
                click.echo("outbox: nothing dropped")
                return
        dropped = state.purge(reason) if count else 0
    click.echo(f"outbox: {dropped} dead letter{'' if dropped == 1 else 's'} dropped")
