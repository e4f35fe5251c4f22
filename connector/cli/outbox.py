"""``qharness outbox``: see and repair what ``send`` left in its state directory.

``status`` names each destination (name, host, URL with the ``urlTokenId`` redacted) beside its
events by state (and dead letters by reason); ``dead`` lists the dead letters with their reason,
HTTP status and time; ``retry`` makes them pending again, so the next ``send`` delivers them
first; ``purge`` drops them, or with ``--pending`` stale pending events (a run against a mistyped
URL), or with ``--delivered --older-than DAYS`` the ids kept to skip re-sent input, after a
confirmation (or ``--yes``; without a terminal and without ``--yes`` it refuses, exit 2).
``--state`` is accepted before or after the subcommand. ``send`` points here whenever a dead
letter remains, since a run never says "success" while one does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from ..delivery.dead_letters import StateDir
from ..delivery.options import KEEP_DELIVERED_DAYS
from ..delivery.outbox import DAY
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


F = TypeVar("F", bound=Callable[..., Any])


def _state_here(command: F) -> F:
    """``--state`` after the subcommand too (``outbox status --state DIR``); it wins over the
    group's. The command receives the directory as ``state_dir``."""

    def wrapper(group_state: Path, /, state_here: Path | None, **kwargs: Any) -> Any:
        return command(state_here if state_here is not None else group_state, **kwargs)

    wrapper.__name__, wrapper.__doc__ = command.__name__, command.__doc__  # name and --help
    option = click.option(
        "--state",
        "state_here",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="The state directory (as before the subcommand).",
    )
    return option(click.pass_obj(wrapper))  # type: ignore[return-value]


@click.group()
@state_option("The state directory `send --state` used.")
@click.pass_context
def outbox(ctx: click.Context, state_dir: Path) -> None:
    """Show or repair send's outbox: counts, dead letters, retry or purge them."""
    ctx.obj = state_dir


@outbox.command()
@_state_here
def status(state_dir: Path) -> None:
    """Each destination (name, host, URL with the urlTokenId redacted) and its events by state."""
    with StateDir(state_dir) as state:
        counts = state.counts()
    if not counts:
        click.echo(f"{state_dir}: no outbox yet (nothing was sent with this --state)")
        return
    for entry in counts:
        label = entry.destination
        named = (
            f"{label.name!r} ({label.host}, {label.url})"
            if label is not None
            else "an unnamed destination (written before outboxes kept their name)"
        )
        click.echo(
            f"{named}: {entry.pending} pending, {entry.delivered} delivered, {entry.dead} dead"
        )
        click.echo(f"  file: {entry.path}")
        for reason, count in entry.dead_by_reason:
            click.echo(f"  dead: {count} x {reason}")


@outbox.command()
@_REASON
@click.option("--json", "as_json", is_flag=True, help="One JSON object per dead letter.")
@_state_here
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
@_state_here
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
@click.option("--pending", "kind", flag_value="pending", help="Drop pending events instead.")
@click.option(
    "--delivered",
    "kind",
    flag_value="delivered",
    help="Forget delivered events (the ids that make a re-sent input skipped) instead.",
)
@click.option(
    "--older-than",
    type=click.FloatRange(0.0),
    metavar="DAYS",
    help=f"Only events last changed over DAYS ago (--delivered: default {KEEP_DELIVERED_DAYS:g}).",
)
@click.option(
    "--destination", metavar="NAME", help="Only the outbox of this destination (see status)."
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@_state_here
def purge(
    state_dir: Path,
    reason: str | None,
    kind: str | None,
    older_than: float | None,
    destination: str | None,
    yes: bool,
) -> None:
    """Drop dead letters (all, or --reason R), or --pending events, or --delivered ones (ids
    only), with their payloads, after a confirmation; a later send of the same profiles sends
    them again."""
    if kind is None and (older_than is not None or destination is not None):
        raise UsageError(
            "outbox purge: --older-than and --destination go with --pending or --delivered"
        )
    if kind is not None and reason is not None:
        raise UsageError("outbox purge: --reason picks dead letters; it does not go with --" + kind)
    with StateDir(state_dir) as state:
        if kind is None:
            count = len(state.dead_letters(reason))
            what = f"{count} dead letter{'' if count == 1 else 's'}"
        else:
            if kind == "delivered" and older_than is None:
                older_than = KEEP_DELIVERED_DAYS
            age = None if older_than is None else older_than * DAY
            count = state.count(kind, destination=destination, older_than=age)
            what = f"{count} {kind} event{'' if count == 1 else 's'}"
            if older_than is not None:
                what += f" older than {older_than:g} day{'' if older_than == 1 else 's'}"
            if destination is not None:
                what += f" of {destination!r}"
        if count and not yes and not _confirmed(kind, what):
            click.echo("outbox: nothing dropped")
            return
        if not count:
            dropped = 0
        elif kind is None:
            dropped = state.purge(reason)
        else:
            dropped = state.purge_events(kind, destination=destination, older_than=age)
    noun = "dead letter" if kind is None else f"{kind} event"
    click.echo(f"outbox: {dropped} {noun}{'' if dropped == 1 else 's'} dropped")


def _confirmed(kind: str | None, what: str) -> bool:
    """Ask (a terminal) or refuse (no terminal: exit 2, the user must say --yes)."""
    if kind == "delivered":
        consequence = "the same input sent again will be delivered again"
    elif kind == "pending":
        consequence = "they will never be sent, unless the same profiles are sent again"
    else:
        consequence = "a later send of the same profiles sends them again"
    question = f"drop {what} ({consequence})?"
    if not sys.stdin.isatty():
        raise UsageError(f"outbox purge would {question[:-1]}: confirm with --yes")
    return click.confirm(question, default=False)
