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
from .examples import epilog
from .lazy import LazyCommand, LazyGroup

__all__ = ["COMMANDS", "cli", "main"]

#: A missing module of these is a bug of ours; a missing dependency is an incomplete install.
_OWN_PACKAGES = frozenset({"connector", "mock_qualtrics", "contracts"})

#: Every command, imported only when it runs (``-V`` and ``--help`` import none of them).
COMMANDS: dict[str, LazyCommand] = {
    "certify": LazyCommand(
        "connector.cli.certify:certify",
        "Certify ACTIVATION (default: the bundled example) against the Qualtrics contract.",
    ),
    "certify-sender": LazyCommand(
        "connector.cli.certify_sender:certify_sender",
        "Certify your own sender: COMMAND runs once against a faithful mock that plays faults.",
    ),
    "render": LazyCommand(
        "connector.cli.core:render",
        "Render PROFILES (JSON Lines, or - for stdin) into Qualtrics payloads.",
    ),
    "validate": LazyCommand(
        "connector.cli.core:validate",
        "Check PAYLOAD files (one JSON document, or JSON Lines; - for stdin) against a contract.",
    ),
    "sample-profiles": LazyCommand(
        "connector.cli.core:sample_profiles_cmd",
        "AEP-format sample profiles for ACTIVATION as JSON Lines (like Adobe's sample-profile API).",
    ),
    "send": LazyCommand(
        "connector.cli.send:send",
        "Stream PROFILES (JSON Lines, or - for stdin, as lines arrive) to ACTIVATION's workflow.",
    ),
    "test-destination": LazyCommand(
        "connector.cli.send:test_destination",
        "Send a few profiles once each and print the result like Adobe's destination-testing API.",
    ),
    "outbox": LazyCommand(
        "connector.cli.outbox:outbox",
        "Show or repair send's outbox: counts, dead letters, retry or purge them.",
    ),
    "probe": LazyCommand(
        "connector.cli.probe:probe",
        "Send safe probes to a real workflow and compare each answer with the mock's.",
    ),
    "mock": LazyCommand("connector.cli.mock:mock", "Run the Qualtrics mock."),
    "runs": LazyCommand("connector.cli.mock:runs", "Show a mock's run history, newest first."),
    "contracts": LazyCommand(
        "connector.cli.certify:contracts_group", "Work with the JSON Schema contracts."
    ),
}


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    epilog=epilog(""),
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(
    None, "-V", "--version", package_name="qualtrics-harness", prog_name="qharness"
)
def cli() -> None:
    """Contract-test and mock the AEP "Qualtrics Automations" destination."""


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
        # NO_COLOR (https://no-color.org): any non-empty value turns every colour off.
        color = False if os.environ.get("NO_COLOR") else None
        code = cli.main(args=argv, prog_name="qharness", standalone_mode=False, color=color)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return 2
    except HarnessError as exc:
        for line in str(exc).splitlines() or [""]:  # several problems: one line each
            click.echo(f"error: {line}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except BrokenPipeError:
        # `qharness render ... | head`: the reader left; not an error of ours.
        sys.stderr.close()
        return 0
    except ModuleNotFoundError as exc:
        if str(exc.name).partition(".")[0] in _OWN_PACKAGES or os.environ.get("QHARNESS_DEBUG"):
            raise
        # An installation with part of the dependencies: the `mock` image serves the mock only.
        click.echo(
            f"error: this installation lacks the Python module {exc.name!r}, which this command "
            "needs: the `mock` container image holds `qharness mock serve` and `qharness runs` "
            "only; use the `full` image, or `pip install qualtrics-harness`",
            err=True,
        )
        return 2
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
