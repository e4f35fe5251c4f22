"""The ``qharness`` command line.

``main`` is the console script. It keeps the two kinds of failure apart: a usage or configuration
error (``UsageError``, a bad flag) prints one line and exits 2; a failed check or delivery exits 1
with its evidence. A user mistake never prints a traceback.
"""

from __future__ import annotations

import os
import sys

import click

from ..errors import HarnessError
from .certify import certify, contracts_group
from .certify_sender import certify_sender
from .core import render, sample_profiles_cmd, validate
from .mock import mock, runs
from .send import send, test_destination

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="qualtrics-harness", prog_name="qharness")
def cli() -> None:
    """Contract-test and mock the AEP "Qualtrics Automations" destination."""


for command in (
    certify,
    certify_sender,
    render,
    validate,
    sample_profiles_cmd,
    send,
    test_destination,
    mock,
    runs,
    contracts_group,
):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return (and, as a script, exit with) 0, 1 or 2.

    An error in any thread (a mock's server thread, a sender's worker) is printed as one line,
    never a traceback, and fails the run: a 0 becomes 1.
    """
    from mock_qualtrics.incidents import ThreadErrors  # light: no Flask, no waitress

    with ThreadErrors(echo=lambda line: click.echo(f"qharness: {line}", err=True)) as errors:
        code = _run(argv)
    return 1 if errors.lines and code == 0 else code


def _run(argv: list[str] | None) -> int:
    try:
        code = cli.main(args=argv, prog_name="qharness", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return 2
    except HarnessError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except BrokenPipeError:
        # `qharness render ... | head`: the reader left; not an error of ours.
        sys.stderr.close()
        return 0
    except Exception as exc:
        from mock_qualtrics.client import MockAdminError

        if isinstance(exc, MockAdminError):  # a mock that is unreachable or refuses: usage
            click.echo(f"error: {exc}", err=True)
            return 2
        # A bug of ours, not a user mistake: say so in one line; the traceback is opt-in.
        if os.environ.get("QHARNESS_DEBUG"):
            raise
        click.echo(
            f"qharness: internal error: {type(exc).__name__}: {exc} "
            "(run with QHARNESS_DEBUG=1 for the traceback, and please report it)",
            err=True,
        )
        return 1
    return code if isinstance(code, int) else 0


def _entry() -> None:  # pragma: no cover - the console script
    sys.exit(main())
