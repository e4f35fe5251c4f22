"""``qharness mock serve`` and ``qharness runs``: run the mock, read its history.

``serve`` runs the same app, server and shutdown code as the embedded mock (waitress, in this
process), loopback by default; a non-loopback bind needs an admin token of at least 16
characters, which then guards the admin API and the UI. Settings come from the flags given, then
the ``--workflows`` file, then the mock's defaults: a flag left out never overrides the file.
SIGTERM or Ctrl-C stops accepting, lets in-flight requests finish, finishes pending runs and
flushes the store before exiting. ``runs`` reads any mock's admin API and prints a plain table
(or JSON).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import sys
import threading
from types import FrameType
from typing import Any

import click

from contracts import facts
from mock_qualtrics.client import MockAdmin, MockAdminAuthError
from mock_qualtrics.config import PAYLOAD_STORAGE, SERVE_THREADS, rule

from ..errors import UsageError
from ._common import (
    ADMIN_TOKEN_ENV,
    admin_token_env_option,
    admin_token_fix,
    fidelity_config,
    fidelity_option,
)

__all__ = ["mock", "runs"]

#: The shortest admin token accepted for a bind off loopback.
MIN_ADMIN_TOKEN = 16
#: How ``qharness runs`` names the workflow of a run whose workflow was deleted (as Qualtrics).
DELETED_WORKFLOW = facts.DELETED_WORKFLOW


@click.group()
def mock() -> None:
    """Run the Qualtrics mock."""


def _admin_token(env_name: str) -> str | None:
    return os.environ.get(env_name) or None


def _check_bind(host: str, token: str | None, env_name: str) -> None:
    from mock_qualtrics import is_loopback

    if is_loopback(host):
        return
    how = (
        f"set ${env_name} to a random string of at least {MIN_ADMIN_TOKEN} characters "
        f"(in a container: -e {env_name}=...), or bind 127.0.0.1"
    )
    if token is None:
        raise UsageError(f"refusing to bind {host!r} without an admin token: {how}")
    if len(token) < MIN_ADMIN_TOKEN:
        raise UsageError(
            f"refusing to bind {host!r}: ${env_name} is {len(token)} characters, "
            f"need at least {MIN_ADMIN_TOKEN}: {how}"
        )


def _settings(
    workflows_file: str | None, flags: dict[str, Any], token: str | None
) -> dict[str, Any]:
    """Flags given, over the file, over the defaults (create_app applies those)."""
    from mock_qualtrics import ConfigError, load_toml

    config: dict[str, Any] = {}
    if workflows_file is not None:
        try:
            config.update(load_toml(workflows_file))
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
    for key, value in flags.items():
        if value is None:
            continue
        problem = rule(key).problem(value)  # the key's own range: NaN gets past click's FloatRange
        if problem is not None:
            raise UsageError(f"--{key.lower().replace('_', '-')}: {problem}")
        config[key] = value
    config["ADMIN_TOKEN"] = token
    return config


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
    help="TOML file of [[users]], [[workflows]], [limits] and [extensions], upserted at start.",
)
@click.option(
    "--db",
    default=None,
    help="SQLite file for run history (survives restarts and kill -9)  [default: :memory:]",
)
@click.option(
    "--run-delay",
    default=None,
    type=click.FloatRange(rule("RUN_DELAY").minimum, rule("RUN_DELAY").maximum),
    help="Seconds a run stays queued  [default: the file's [limits] run_delay, else 0.5]",
)
@click.option(
    "--payload-storage",
    type=click.Choice(PAYLOAD_STORAGE),
    default=None,
    help="How runs keep the payload  [default: the file's [limits] payload_storage, else raw]",
)
@click.option(
    "--public-host",
    "public_hosts",
    multiple=True,
    metavar="NAME",
    help="A Host name the mock answers besides loopback (repeatable).",
)
@click.option(
    "--trust-proxy",
    type=click.IntRange(0, 16),
    default=None,
    metavar="N",
    help="Behind N proxies (an ingress): trigger URLs, UI links and the Host rule use the "
    "scheme and host they forward (X-Forwarded-Proto/-Host/-Port/-For)  [default: 0]",
)
@click.option(
    "--admin-token-env",
    default=ADMIN_TOKEN_ENV,
    show_default=True,
    help="Environment variable holding the admin token (needed off loopback).",
)
@fidelity_option
@click.option(
    "--threads",
    default=SERVE_THREADS,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Server threads (each long-poll holds one).",
)
@click.option(
    "--all-cpus",
    is_flag=True,
    help="Let the mock's threads run on every CPU (by default they share the one the mock "
    "starts on: passing the GIL between CPUs slowed it 5-20x).",
)
def serve(
    host: str,
    port: int,
    workflows_file: str | None,
    db: str | None,
    run_delay: float | None,
    payload_storage: str | None,
    public_hosts: tuple[str, ...],
    trust_proxy: int | None,
    admin_token_env: str,
    fidelity: str | None,
    threads: int,
    all_cpus: bool,
) -> None:
    """Serve the mock (trigger endpoint, /__admin/ API, UI at /) until SIGTERM or Ctrl-C."""
    from mock_qualtrics import create_app, make_server
    from mock_qualtrics.server import SWITCH_INTERVAL, confine_to_one_cpu, shutdown
    from mock_qualtrics.state import current_state
    from mock_qualtrics.workflows import ValidationError

    if not all_cpus:
        confine_to_one_cpu()  # before any thread starts: the threads started below inherit it

    token = _admin_token(admin_token_env)
    _check_bind(host, token, admin_token_env)
    flags = {
        "DATABASE": db,
        "RUN_DELAY": run_delay,
        "PAYLOAD_STORAGE": payload_storage,
        "PUBLIC_HOSTS": tuple(public_hosts) or None,
        "TRUST_PROXY": trust_proxy,
        "FIDELITY_RECORD": fidelity,
    }
    config = _settings(workflows_file, flags, token)
    if config.get("FIDELITY_RECORD"):  # checked (one line, exit 2) and its age warned of, first
        fidelity_config(config["FIDELITY_RECORD"], config.get("FIDELITY_MAX_AGE_DAYS"))
    try:
        app = create_app(config)
    except ValidationError as exc:
        raise UsageError(f"{workflows_file}: {exc}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except sqlite3.Error as exc:
        raise UsageError(f"--db {config.get('DATABASE', ':memory:')}: cannot open: {exc}") from None
    try:
        server = make_server(app, host, port, threads=threads)
    except OSError as exc:
        current_state(app).store.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    logging.getLogger("waitress").setLevel(logging.WARNING)
    sys.setswitchinterval(SWITCH_INTERVAL)  # this process is the mock's alone (see the constant)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    # A parent (a test runner's worker, say) may have blocked SIGTERM; the mask is inherited.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    loop = threading.Thread(target=server.run, name="mock-qualtrics-loop", daemon=True)
    loop.start()
    shown = f"[{host}]" if ":" in host else host
    following = f"; following {config['FIDELITY_RECORD']}" if config.get("FIDELITY_RECORD") else ""
    click.echo(
        f"mock_qualtrics listening on http://{shown}:{server.effective_port}/ "
        f"(UI at /, admin API at /__admin/{following})"
    )
    try:
        while not stop.wait(0.5) and loop.is_alive():
            pass
    finally:
        shutdown(server, app, loop)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
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
    type=click.Choice(facts.RUN_STATUSES),
    help="Only runs with this status.",
)
@click.option(
    "--limit",
    default=100,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Runs to show.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@admin_token_env_option
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
    token = _admin_token(admin_token_env)
    admin = MockAdmin(mock_url, admin_token=token)
    try:
        names = {wf["id"]: wf["name"] for wf in admin.workflows()}
        if workflow_id:  # a deleted workflow's runs still list
            records = admin.runs_page(workflow_id, status=status, limit=limit)[0]
        else:
            records = admin.all_runs(status=status, limit=limit)
    except MockAdminAuthError as exc:
        raise UsageError(f"{exc}; {admin_token_fix(admin_token_env, given=bool(token))}") from None
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
            names.get(r["workflow_id"], DELETED_WORKFLOW),
            r["status"],
            r["id"],
            r.get("duplicate_of") or "-",
            r["error"]
            or ", ".join(
                f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in r["fields"].items()
            ),
        ]
        for r in records
    ]
    click.echo(
        _table(
            rows, ["STARTED ON", "WORKFLOW", "STATUS", "RUN ID", "DUPLICATE OF", "FIELDS / ERROR"]
        )
    )
