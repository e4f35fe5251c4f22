"""``qharness mock serve`` and ``qharness runs``: run the mock, read its history.

``serve`` runs the same app and server code as the embedded mock (waitress, in this process),
loopback by default; a non-loopback bind needs an admin token, which then guards the admin API and
the UI. SIGTERM stops accepting, finishes pending runs and flushes the store before exiting.
``runs`` reads any mock's admin API and prints a plain table (or JSON).
"""

from __future__ import annotations

import json
import logging
import os
import signal
from types import FrameType
from typing import Any

import click

from mock_qualtrics import ConfigError, create_app, is_loopback, load_toml, make_server
from mock_qualtrics.state import current_state
from mock_qualtrics.workflows import ValidationError

from ..certify.admin import MockAdmin
from ..errors import UsageError
from ._common import ADMIN_TOKEN_ENV

__all__ = ["mock", "runs"]


class _Stop(SystemExit):
    """Raised by the SIGTERM handler to leave waitress' loop (which swallows plain exceptions
    from its callbacks but re-raises SystemExit, and then returns from ``run()``)."""


@click.group()
def mock() -> None:
    """Run the Qualtrics mock."""


def _admin_token(env_name: str) -> str | None:
    return os.environ.get(env_name) or None


@mock.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0: a free one).",
)
@click.option(
    "--workflows",
    "workflows_file",
    type=click.Path(dir_okay=False),
    help="TOML file of [[users]], [[workflows]] and [limits], upserted at start.",
)
@click.option(
    "--db",
    default=":memory:",
    show_default=True,
    help="SQLite file for run history (survives restarts), or :memory:.",
)
@click.option(
    "--run-delay",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0, 3600),
    help="Seconds a run stays queued.",
)
@click.option(
    "--payload-storage",
    type=click.Choice(["raw", "redacted", "none"]),
    default="raw",
    show_default=True,
    help="How runs keep the payload.",
)
@click.option(
    "--admin-token-env",
    default=ADMIN_TOKEN_ENV,
    show_default=True,
    help="Environment variable holding the admin token (needed off loopback).",
)
@click.option(
    "--threads",
    default=16,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Server threads (each long-poll holds one).",
)
def serve(
    host: str,
    port: int,
    workflows_file: str | None,
    db: str,
    run_delay: float,
    payload_storage: str,
    admin_token_env: str,
    threads: int,
) -> None:
    """Serve the mock (trigger endpoint, /__admin/ API, UI at /) until SIGTERM or Ctrl-C."""
    token = _admin_token(admin_token_env)
    if not is_loopback(host) and token is None:
        raise UsageError(
            f"refusing to bind {host!r} without an admin token: set ${admin_token_env} "
            "(or bind 127.0.0.1)"
        )
    config: dict[str, Any] = {}
    if workflows_file is not None:
        try:
            config.update(load_toml(workflows_file))
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
    config.update({"DATABASE": db, "PAYLOAD_STORAGE": payload_storage, "ADMIN_TOKEN": token})
    config.setdefault("RUN_DELAY", run_delay)
    if run_delay != 0.5:  # an explicit flag beats the file's [limits]
        config["RUN_DELAY"] = run_delay
    try:
        app = create_app(config)
    except ValidationError as exc:
        raise UsageError(f"{workflows_file}: {exc}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        server = make_server(app, host, port, threads=threads)
    except OSError as exc:
        current_state(app).store.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    logging.getLogger("waitress").setLevel(logging.WARNING)
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"mock_qualtrics listening on http://{shown}:{server.effective_port}/ "
        "(UI at /, admin API at /__admin/)",
        err=False,
    )

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise _Stop

    previous = signal.signal(signal.SIGTERM, on_term)
    # A parent (a test runner's worker, say) may have blocked SIGTERM; the mask is inherited.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    try:
        server.run()
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        current_state(app).store.close()
        click.echo("mock_qualtrics stopped; store flushed", err=True)


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


@click.command()
@click.option("--mock", "mock_url", required=True, help="Base URL of a running mock.")
@click.option("--workflow", "workflow_id", help="Only this workflow's runs.")
@click.option(
    "--status",
    type=click.Choice(["queued", "Succeeded", "Failed"]),
    help="Only runs with this status.",
)
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Runs per workflow.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--admin-token-env",
    default=ADMIN_TOKEN_ENV,
    show_default=True,
    help="Environment variable holding the mock's admin token, if it has one.",
)
def runs(
    mock_url: str,
    workflow_id: str | None,
    status: str | None,
    limit: int,
    as_json: bool,
    admin_token_env: str,
) -> None:
    """Show a mock's run history, newest first."""
    if not mock_url.startswith(("http://", "https://")):
        raise UsageError(f"--mock: expected an http(s) URL, got {mock_url!r}")
    admin = MockAdmin(mock_url, admin_token=_admin_token(admin_token_env))
    try:
        workflows = [admin.workflow(workflow_id)] if workflow_id else admin.workflows()
        names = {wf["id"]: wf["name"] for wf in workflows}
        records: list[dict[str, Any]] = []
        for wf in workflows:
            records += admin.runs_page(wf["id"], status=status, limit=limit)[0]
    finally:
        admin.close()
    records.sort(key=lambda r: r["received_at"], reverse=True)
    if as_json:
        click.echo(json.dumps({"runs": records}, indent=2, ensure_ascii=False))
        return
    if not records:
        click.echo("no runs")
        return
    rows = [
        [
            r["started_at"] or r["received_at"],
            names.get(r["workflow_id"], r["workflow_id"]),
            r["status"],
            r["id"],
            r["error"]
            or ", ".join(
                f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in r["fields"].items()
            ),
        ]
        for r in records
    ]
    click.echo(_table(rows, ["STARTED ON", "WORKFLOW", "STATUS", "RUN ID", "FIELDS / ERROR"]))
