"""``qharness probe TRIGGER_URL``: check the mock against a real Qualtrics workflow.

Nothing is sent before the plan (the groups, each request, the total) is printed and confirmed:
on a terminal the command asks; ``--yes`` answers for it; with neither a terminal nor ``--yes``
it refuses (exit 2) having sent nothing. The URL guard is ``send``'s; the token is read from the
environment variable ``--token-env`` names, never from the command line. Each probe goes to the
real trigger and to an embedded faithful mock holding the same user and a workflow with the same
``urlTokenId``; one line per probe, then the counts. Exit 0 when every probe matched, 1 when any
differed or got no answer, 2 for a usage error (a bad URL or flag, an unreachable host, a refused
confirmation).
"""

from __future__ import annotations

import os
import secrets
import sys
import uuid
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import click

from ..certify.embedded import embedded_mock
from ..certify.runner import tool_version
from ..delivery.auth import QualtricsBasicAuth
from ..delivery.client import make_client
from ..delivery.secrets import secret_values
from ..delivery.urlguard import check_url
from ..errors import SecretError, UsageError
from ..fidelity.probes import REQUIRED_FIELD, Limits, Probe, plan
from ..fidelity.record import counts, record_document, report_document, write_json
from ..fidelity.run import Outcome, Target, Unreachable, run_probes
from ..redact import redact_url
from ._common import allow_mock_host_option, network_of, network_options
from .certify_checks import check_output_paths

__all__ = ["probe"]

_GROUPS = {
    "no-run": "cannot start a run (credentials that fail, an unknown urlTokenId)",
    "may-run": "MAY START A RUN (your credentials on the real trigger)",
}


def _url_token(url: str) -> str:
    tokens = [v for k, v in parse_qsl(urlsplit(url).query) if k == "urlTokenId" and v]
    if len(tokens) != 1:
        raise UsageError(
            f"TRIGGER_URL {redact_url(url)!r} must carry one urlTokenId=... (the JSON Event's"
            " trigger URL, as the workflow shows it)"
        )
    try:
        uuid.UUID(tokens[0])
    except ValueError:
        raise UsageError(f"TRIGGER_URL {redact_url(url)!r}: its urlTokenId is not a UUID") from None
    return tokens[0]


def _token(username: str | None, token_env: str | None) -> str | None:
    if (username is None) != (token_env is None):
        raise UsageError("--username and --token-env go together: give both, or neither")
    if token_env is None:
        return None
    token = os.environ.get(token_env, "")
    if not token.strip():
        state = "empty" if token_env in os.environ else "unset"
        raise SecretError(
            f"--token-env {token_env}: the environment variable is {state}"
            f" (export {token_env}=... with the Qualtrics API token)"
        )
    return token


def _limits() -> Limits:
    from mock_qualtrics.config import DEFAULTS

    return Limits(
        max_body_bytes=int(DEFAULTS["MAX_BODY_BYTES"]),
        json_depth=int(DEFAULTS["MAX_JSON_DEPTH"]),
        rate_burst=int(DEFAULTS["RATE_BURST"]),
    )


def _show_plan(probes: list[Probe], url: str, credentials: bool, allow_runs: bool) -> None:
    click.echo(f"probing {redact_url(url)}")
    for group, title in _GROUPS.items():
        members = [p for p in probes if p.group == group]
        if not members:
            continue
        click.echo(f"group {group}: {title}")
        for number, probe in enumerate(members, 1):
            click.echo(f"  {number:>2}. {probe.id}: {probe.describe()}")
    if not credentials:
        click.echo(
            "without --username and --token-env only the probes that need no credentials run"
        )
    elif not allow_runs:
        click.echo("the probes that may start a run are left out (--allow-runs sends them)")
    total = sum(p.count for p in probes)
    click.echo(f"total: {len(probes)} probes, at most {total} requests to Qualtrics")


def _confirm(yes: bool, total: int) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(
            "nothing sent: no terminal to confirm on; read the plan above and pass --yes to send it"
        )
    if not click.confirm(f"send these {total} requests to Qualtrics?", default=False):
        raise UsageError("nothing sent: not confirmed")


def _mock_config(url_token: str, username: str | None, token: str | None) -> dict[str, object]:
    user = username or "qharness-probe"
    return {
        "USERS": ({"username": user, "api_token": token or secrets.token_hex(16)},),
        "WORKFLOWS": (
            {
                "id": "SV_qharnessProbe",
                "name": "qharness probe",
                "owner": user,
                "url_token_id": url_token,
                "fields": [REQUIRED_FIELD],
            },
        ),
    }


def _mock_url(url: str, base: str) -> str:
    parts = urlsplit(url)
    return f"{base}{parts.path}?{parts.query}"


@click.command()
@click.argument("trigger_url")
@click.option("--username", help="Your Qualtrics user name (with --token-env).")
@click.option(
    "--token-env",
    metavar="VAR",
    help="Environment variable holding your Qualtrics API token (never on the command line).",
)
@click.option(
    "--allow-runs",
    is_flag=True,
    help="Also send the probes that may start a run (use a test workflow with no tasks).",
)
@click.option("--yes", is_flag=True, help="Send without asking (the plan is still printed).")
@click.option(
    "--record",
    "record_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the fidelity record (the mock follows it with --fidelity).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the comparison as a JSON report.",
)
@click.option(
    "--allow-http-loopback",
    is_flag=True,
    help="Allow plain http to 127.0.0.1, ::1 or localhost (a stand-in, not Qualtrics).",
)
@allow_mock_host_option
@network_options
@click.pass_context
def probe(
    ctx: click.Context,
    trigger_url: str,
    username: str | None,
    token_env: str | None,
    allow_runs: bool,
    yes: bool,
    record_path: Path | None,
    json_path: Path | None,
    allow_http_loopback: bool,
    allow_mock_hosts: tuple[str, ...],
    ca_bundle: str | None,
    proxy: str | None,
) -> None:
    """Send safe probes to a real workflow and compare each answer with the mock's.

    Each probe is one request exercising one behaviour of GET /__admin/behaviours; the same
    request goes to an embedded mock with your user and a workflow with the same urlTokenId.
    Compared: status, the error envelope's shape and errorCode, Content-Type, Retry-After and
    WWW-Authenticate. Probe a test copy of the workflow that has no tasks and requires
    authentication.

    Exit 0 if every probe matched, 1 if any differed, 2 for a usage error.
    """
    url = check_url(
        trigger_url, allow_http_loopback=allow_http_loopback, allow_mock_hosts=allow_mock_hosts
    )
    network = network_of(ctx, ca_bundle, proxy)
    url_token = _url_token(url)
    token = _token(username, token_env)
    check_output_paths((("--record", record_path), ("--json", json_path)))
    credentials = token is not None
    probes = plan(_limits(), credentials=credentials, allow_runs=allow_runs)
    _show_plan(probes, url, credentials, allow_runs)
    total = sum(p.count for p in probes)
    _confirm(yes, total)
    hidden = secret_values(url, token or "")
    auth = QualtricsBasicAuth(username or "", token) if token is not None else None
    outcomes: list[Outcome] = []
    with (
        make_client(
            auth or QualtricsBasicAuth("", ""), network=network, max_connections=10
        ) as real_client,
        make_client(QualtricsBasicAuth("", ""), max_connections=10) as mock_client,
        embedded_mock(_mock_config(url_token, username, token)) as base,
    ):
        real = Target(url, real_client, auth, username, hidden)
        mock = Target(_mock_url(url, base), mock_client, auth, username, hidden)
        try:
            for outcome in run_probes(probes, real, mock, str(uuid.uuid4())):
                outcomes.append(outcome)
                click.echo(outcome.line())
        except Unreachable as exc:
            raise UsageError(f"cannot reach {urlsplit(url).netloc}: {exc}") from None
    tally = counts(outcomes)
    if record_path is not None or json_path is not None:
        document = record_document(
            outcomes,
            url=url,
            harness_version=tool_version(),
            credentials=credentials,
            allow_runs=allow_runs,
        )
        if record_path is not None:
            write_json(record_path, document, "--record")
        if json_path is not None:
            write_json(json_path, report_document(document), "--json")
    verdict = "matched" if tally["differs"] == tally["error"] == 0 else "differed"
    click.echo(
        f"probe {verdict}: {tally['matches']} matched, {tally['differs']} differed,"
        f" {tally['error']} errors, of {len(outcomes)} probes"
    )
    if verdict != "matched":
        raise click.exceptions.Exit(1)
