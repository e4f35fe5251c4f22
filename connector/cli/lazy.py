"""A Click group whose commands are imported only when one of them runs.

Why: ``certify`` pulls in Hypothesis, ``mock`` and ``runs`` pull in Flask and waitress; importing
them all made ``qharness -V`` and ``qharness --help`` take over a second. Each command is named
here by ``"module:attribute"`` with its one-line help, so the group's ``--help`` lists every
command without importing one (``tests/connector/test_cli_lazy.py`` checks that the help written
here is the command's own). This is Click's documented "lazily loading subcommands" pattern:
https://click.palletsprojects.com/en/stable/complex/#lazily-loading-subcommands
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import click

from .examples import add_examples

__all__ = ["LazyCommand", "LazyGroup"]


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """Where a command lives (``"package.module:attribute"``) and its one-line help."""

    target: str
    short_help: str


class LazyGroup(click.Group):
    """``click.Group`` that imports a command's module the first time the command is needed."""

    def __init__(
        self, *args: Any, lazy_commands: Mapping[str, LazyCommand] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands: dict[str, LazyCommand] = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            self.add_command(self.load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def load(self, cmd_name: str) -> click.Command:
        """Import and return the command ``cmd_name`` names (a bug of ours if it is not one)."""
        module_name, attribute = self.lazy_commands[cmd_name].target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{module_name}:{attribute} is not a click command")
        add_examples(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the static help, so ``--help`` imports no command module."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max((len(name) for name in names), default=0)
        rows: list[tuple[str, str]] = []
        for name in names:
            if name in self.lazy_commands and name not in self.commands:
                stand_in = click.Command(name, help=self.lazy_commands[name].short_help)
                rows.append((name, stand_in.get_short_help_str(limit)))
                continue
            command = self.commands[name]
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
