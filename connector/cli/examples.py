"""The examples that end each command's ``--help``, in one table.

Why one table: a newcomer reads ``--help`` before the README, and one or two command lines that
run as they are say more than a paragraph of options. Kept here rather than in each command's
docstring so that every command (and every subcommand: ``mock serve``, ``outbox dead``) gets
them the same way, as Click's ``epilog``, when the lazy group loads it.
"""

from __future__ import annotations

from typing import Final

import click

__all__ = ["EXAMPLES", "add_examples", "epilog"]

EXAMPLES: Final[dict[str, tuple[str, ...]]] = {
    "": (
        "qharness certify",
        "qharness mock serve --workflows examples/workflows.toml --port 8080",
    ),
    "certify": (
        "qharness certify",
        "qharness certify my-activation.toml --junit junit.xml --report report.html",
    ),
    "certify-sender": (
        "qharness certify-sender -- ./my-sender.sh",
        'qharness certify-sender --profiles 20 -- sh -c \'qharness send "$QHARNESS_ACTIVATION" '
        '"$QHARNESS_PROFILES" --allow-http-loopback\'',
    ),
    "render": (
        "qharness render examples/activation.toml profiles.jsonl > payloads.jsonl",
        "qharness sample-profiles examples/activation.toml | qharness render examples/activation.toml",
    ),
    "validate": (
        "qharness validate payloads.jsonl",
        "qharness validate --contract activation my-activation.toml",
    ),
    "sample-profiles": ("qharness sample-profiles examples/activation.toml --count 20 --seed 7",),
    "send": (
        "qharness send activation.toml profiles.jsonl --report-json report.json",
        "tail -f export.jsonl | qharness send activation.toml - --max-skip-rate 0.2",
        "qharness send activation.toml p.jsonl --proxy http://proxy:3128 --ca-bundle corp-root.pem",
    ),
    "test-destination": (
        "qharness test-destination activation.toml --count 3",
        "qharness test-destination examples/local-activation.toml --allow-http-loopback",
    ),
    "probe": (
        "qharness probe 'https://iad1.qualtrics.com/inbound-event/v1/events/json/triggers?urlTokenId=...'",
        'QUALTRICS_API_TOKEN=... qharness probe "$TRIGGER_URL" --username me@example.com '
        "--token-env QUALTRICS_API_TOKEN --allow-runs --record fidelity.json",
        "qharness mock serve --fidelity fidelity.json",
    ),
    "outbox": ("qharness outbox status", "qharness outbox --state ./state dead --json"),
    "outbox status": ("qharness outbox status", "qharness outbox status --state ./state"),
    "outbox dead": ("qharness outbox dead", "qharness outbox dead --reason 400 --json"),
    "outbox retry": ("qharness outbox retry", "qharness outbox retry --reason 429"),
    "outbox purge": (
        "qharness outbox purge --reason 400 --yes",
        'qharness outbox purge --pending --destination "Post-purchase CSAT"',
        "qharness outbox purge --delivered --older-than 7 --yes",
    ),
    "mock": ("qharness mock serve --workflows examples/workflows.toml",),
    "mock serve": (
        "qharness mock serve --workflows examples/workflows.toml",
        "qharness mock serve --port 9000 --db runs.sqlite --run-delay 0",
    ),
    "runs": (
        "qharness runs --mock http://127.0.0.1:8080",
        "qharness runs --mock http://127.0.0.1:8080 --status Failed --json",
    ),
    "contracts": (
        "qharness contracts diff old/activation.schema.json contracts/activation.schema.json",
    ),
    "contracts diff": (
        "qharness contracts diff old/activation.schema.json contracts/activation.schema.json",
    ),
}


def epilog(path: str) -> str | None:
    """The ``Examples:`` block for the command at ``path`` ("" is ``qharness`` itself)."""
    examples = EXAMPLES.get(path)
    if not examples:
        return None
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in examples)


def add_examples(command: click.Command, path: str) -> None:
    """Set ``command``'s epilog (and its subcommands') from ``EXAMPLES``, unless it has one."""
    if not command.epilog:
        command.epilog = epilog(path)
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            add_examples(sub, f"{path} {name}")
