"""Terminal manners: NO_COLOR, examples at the end of every --help, shell completion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from support.cli import QHARNESS
from support.paths import EXAMPLE

from connector.cli import COMMANDS, cli, main


def _certify_output(
    activation: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # as on a terminal
    assert main(["certify", str(activation), "--examples", "5", "--seed", "1"]) == 0
    return capsys.readouterr().out


def test_no_color_turns_colour_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a terminal PASS is coloured; with NO_COLOR=1 no escape sequence is written. (The
    activation has one identity and one attribute: the evidence says so in good English.)"""
    text = EXAMPLE.read_text(encoding="utf-8")
    one_each = text[: text.index('[[identities]]\nsource = "ECID"')]
    one_each += '[[attributes]]\nsource = "person.name.firstName"\n'
    one_each += 'target = "person.name.firstName"\n'
    activation = tmp_path / "one-each.toml"
    activation.write_text(one_each, encoding="utf-8")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b[" in _certify_output(activation, monkeypatch, capsys)
    monkeypatch.setenv("NO_COLOR", "1")
    plain = _certify_output(activation, monkeypatch, capsys)
    assert "\x1b[" not in plain
    assert "PASS  activation.load" in plain
    assert "1 identity and 1 attribute mapping, 1 audience, 2 workflow fields" in plain


def _leaves(
    command: click.Command, path: tuple[str, ...]
) -> list[tuple[tuple[str, ...], click.Command]]:
    if isinstance(command, click.Group):
        found = [(path, command)]
        for name, sub in command.commands.items():
            found += _leaves(sub, (*path, name))
        return found
    return [(path, command)]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_help_ends_with_examples(name: str) -> None:
    """Each command's --help ends with an 'Examples:' block of qharness command lines."""
    for path, command in _leaves(cli.load(name), (name,)):  # type: ignore[attr-defined]
        ctx = click.Context(command, info_name=" ".join(path))
        text = command.get_help(ctx)
        tail = text[text.rindex("Examples:") :] if "Examples:" in text else ""
        assert tail, f"qharness {' '.join(path)} --help has no examples"
        examples = [line.strip() for line in tail.splitlines()[1:] if line.strip()]
        assert 1 <= len(examples) <= 3
        assert all("qharness " in line for line in examples), examples


def test_qharness_help_ends_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    """`qharness --help` too: the commands, then examples."""
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().splitlines()[-2:] == [
        "    qharness certify",
        "    qharness mock serve --workflows examples/workflows.toml --port 8080",
    ]


def test_shell_completion_as_the_readme_says() -> None:
    """`_QHARNESS_COMPLETE=bash_complete` completes subcommands (the README's recipe)."""
    env = {**os.environ, "_QHARNESS_COMPLETE": "bash_complete", "COMP_WORDS": "qharness out"}
    env["COMP_CWORD"] = "1"
    done = subprocess.run(  # the installed script, as the shell's completion runs it
        QHARNESS,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "plain,outbox"
