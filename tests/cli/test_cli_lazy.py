"""``qharness -V`` and ``--help`` import no command: no Hypothesis, Flask or waitress."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from connector.cli import COMMANDS, cli
from connector.cli.lazy import LazyGroup

#: Packages (or modules) that only a command may import: the fast paths must not.
HEAVY = ("hypothesis", "flask", "waitress", "mock_qualtrics.app", "connector.certify")


def _imported_after(*args: str) -> tuple[str, set[str]]:
    code = (
        "import sys\n"
        "from connector.cli import main\n"
        f"code = main({list(args)!r})\n"
        f"print(sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') "
        f"for h in {HEAVY!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    *output, modules = done.stdout.strip().splitlines()
    return "\n".join(output), set(eval(modules))  # noqa: S307 - our own repr of a list of names


@pytest.mark.parametrize("args", [("-V",), ("--version",), ("--help",)])
def test_version_and_help_import_no_command(args: tuple[str, ...]) -> None:
    """The fast paths stay fast: none of the heavy packages is imported."""
    output, modules = _imported_after(*args)
    assert output
    assert modules == set()


def test_help_lists_every_command_with_its_own_help() -> None:
    """The static one-line help is the command's own first docstring line (no drift)."""
    ctx = click.Context(cli)
    assert isinstance(cli, LazyGroup)
    for name, lazy in COMMANDS.items():
        command = cli.load(name)
        assert command.name == name
        assert command.get_short_help_str(limit=1000) == lazy.short_help
    assert set(cli.list_commands(ctx)) >= set(COMMANDS)


def test_a_command_still_runs_when_asked_for() -> None:
    """Loading on demand: `render --help` imports render's module and prints its help."""
    output, _ = _imported_after("render", "--help")
    assert "Render PROFILES" in output
