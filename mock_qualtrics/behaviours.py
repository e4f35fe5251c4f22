"""Every behaviour of the mock, with where it comes from: documented, assumed, or an extension.

A mock is only as useful as its honesty: a test that passes here should pass live. So each rule the
mock applies is listed with its source: ``documented`` (the Qualtrics or Adobe page that says so),
``assumed`` (no public source says; the mock makes a choice, and says which), ``extension``
(something Qualtrics does not do at all, there to help testing), or ``observed`` (a fidelity
record of ``qharness probe`` saw a real workflow answer so, and the mock now does the same; see
:mod:`mock_qualtrics.fidelity`, which rewrites those rows). Values are read from the live
config, so ``GET /__admin/behaviours`` describes the mock that answers it.

``python -m mock_qualtrics.behaviours`` prints the same list as the Markdown table in the README
(with the default config); a test keeps the two equal.
"""

from __future__ import annotations

from typing import Any, Literal

from .config import Settings

__all__ = ["JSON_EVENTS", "QUALTRICS_AUTOMATIONS", "RUN_HISTORY", "behaviours", "markdown_table"]

Source = Literal["documented", "assumed", "extension", "observed"]

#: Qualtrics' page on the JSON Event trigger (auth, limits, JSONPath fields).
JSON_EVENTS = "https://www.qualtrics.com/support/survey-platform/actions-module/json-events/"
#: Qualtrics' page on workflow run history (views, retention, deleted workflows).
RUN_HISTORY = "https://www.qualtrics.com/support/survey-platform/actions-module/actions-reporting/"
#: Adobe's page on the destination (URL, credentials, validation through run history).
QUALTRICS_AUTOMATIONS = (
    "https://experienceleague.adobe.com/en/docs/experience-platform/destinations/catalog/"
    "survey/qualtrics-automations"
)


def _row(name: str, value: Any, source: Source, reference: str) -> dict[str, Any]:
    return {"name": name, "value": value, "source": source, "reference": reference}


def behaviours(settings: Settings | None = None) -> list[dict[str, Any]]:
    """``[{"name", "value", "source", "reference"}]`` for a mock with ``settings``."""
    s = settings or Settings()
    rate = f"{s.rate_limit:,} calls per {float(s.rate_window):g} s per user"
    drain = int(s.rate_limit) / float(s.rate_window)
    lockout = (
        f"{s.lockout_failures} failed authentications from one address within"
        f" {float(s.lockout_window):g} s: 429 on every trigger request for"
        f" {float(s.lockout_seconds):g} s"
    )
    idempotency = s.extension_idempotency_keys
    return [
        _row(
            "trigger.url",
            "POST /inbound-event/v1/events/json/triggers?urlTokenId={uuid}",
            "documented",
            QUALTRICS_AUTOMATIONS,
        ),
        _row(
            "trigger.url_token_only",
            "urlTokenId matches a workflow's urlTokenId only, never its workflow id",
            "assumed",
            "the trigger URL carries its own token, distinct from the workflow id",
        ),
        _row(
            "trigger.older_url",
            "POST /inbound-event/v1/events/JSON/triggers?...&triggerId=...; triggerId is looked up"
            " as a urlTokenId, then as a workflow id",
            "assumed",
            "the older shape appears in public integrations; what triggerId maps to is not public",
        ),
        _row(
            "auth.methods",
            "X-API-TOKEN, or Basic base64(username:apitoken)",
            "documented",
            JSON_EVENTS,
        ),
        _row(
            "auth.per_workflow_switch",
            "auth_required (default true)",
            "extension",
            "lets a test trigger a workflow without credentials",
        ),
        *(
            _row(
                f"status.unauthorized.{case}",
                401,
                "assumed",
                f"{what}; the status Qualtrics' API uses, not named for triggers",
            )
            for case, what in (
                ("no_credentials", "no X-API-TOKEN and no Authorization header"),
                ("wrong_token", "a user name and API token that prove no one"),
                ("malformed_basic", "Basic credentials that are not base64(username:apitoken)"),
                ("bearer", "an Authorization scheme other than Basic (Bearer, say)"),
            )
        ),
        _row(
            "status.forbidden",
            403,
            "assumed",
            "a valid token whose user does not own the workflow; Qualtrics names no status",
        ),
        _row(
            "status.not_found",
            404,
            "assumed",
            "no workflow has this urlTokenId; Qualtrics names no status",
        ),
        _row("auth.lockout", lockout, "assumed", "Qualtrics documents no lockout"),
        _row("limits.body_bytes", s.max_body_bytes, "documented", JSON_EVENTS),
        _row(
            "status.too_large",
            413,
            "assumed",
            "Qualtrics documents the 100 KB limit, not its status",
        ),
        _row(
            "limits.content_type",
            "application/json (or application/*+json)",
            "documented",
            JSON_EVENTS,
        ),
        _row(
            "status.unsupported_media_type",
            415,
            "assumed",
            "Qualtrics processes only JSON; the status for anything else is not documented",
        ),
        _row(
            "status.invalid_json",
            400,
            "assumed",
            "a JSON Content-Type whose body does not parse; Qualtrics names no status",
        ),
        _row(
            "limits.json_depth",
            s.max_json_depth,
            "assumed",
            "deeper nesting is 400; Qualtrics documents no depth limit",
        ),
        _row(
            "body.any_json",
            "any valid JSON value, scalars and arrays included",
            "assumed",
            "Qualtrics documents a JSON body, not that it must be an object",
        ),
        _row(
            "body.exact_numbers",
            "numbers kept as sent (big integers, 1e400, 1.50)",
            "assumed",
            "Qualtrics documents nothing on number precision; the mock never changes a value",
        ),
        _row("limits.rate", rate, "documented", JSON_EVENTS),
        _row(
            "limits.rate_algorithm",
            f"leaky bucket draining at {drain:g}/s",
            "documented",
            JSON_EVENTS,
        ),
        _row(
            "limits.rate_burst",
            s.rate_burst,
            "assumed",
            "the bucket's size is not documented ([limits] rate_burst)",
        ),
        _row(
            "limits.retry_after",
            "whole seconds until the call fits the bucket, at least 1",
            "assumed",
            "Qualtrics documents 429, not Retry-After",
        ),
        _row("limits.daily_runs", s.daily_run_limit, "documented", JSON_EVENTS),
        _row(
            "limits.daily_runs_scope",
            "all workflows of the mock, per UTC day",
            "assumed",
            "Qualtrics documents 300,000 executions a day, not their scope or day boundary",
        ),
        _row("limits.fields_per_workflow", s.max_fields, "documented", JSON_EVENTS),
        _row(
            "check_order",
            "faults, lockout, unknown token, credentials, size, content type, JSON, depth,"
            " idempotency extension, rate, disabled workflow, daily runs",
            "assumed",
            "Qualtrics documents no order",
        ),
        _row(
            "response.envelope",
            '202 {"result": {}, "meta": {"httpStatus", "requestId"}}; errors in meta.error',
            "assumed",
            "the Qualtrics v3 API envelope; the trigger's own answer is not documented",
        ),
        _row(
            "deduplication",
            "none: every accepted request makes a run",
            "documented",
            JSON_EVENTS + " (no deduplication is documented)",
        ),
        _row(
            "runs.duplicate_of",
            "a run repeating an earlier run's Idempotency-Key or body bytes names it",
            "extension",
            "lets a test count duplicate runs",
        ),
        _row(
            "extensions.idempotency_keys",
            idempotency,
            "extension",
            "[extensions] idempotency_keys: a repeated Idempotency-Key within"
            f" {float(s.idempotency_ttl):g} s is answered 202 with the first requestId and"
            " makes no run",
        ),
        _row(
            "workflow.disabled",
            "202, no run recorded; the journal says disabled",
            "assumed",
            QUALTRICS_AUTOMATIONS + " (no runs means the workflow is disabled or the URL wrong)",
        ),
        _row("workflow.deleted", "runs kept, shown as Deleted Workflow", "documented", RUN_HISTORY),
        _row(
            "runs.delay_seconds",
            s.run_delay,
            "assumed",
            "runs are not instant (Adobe); how long they take is not documented",
        ),
        _row(
            "runs.fields",
            "each field is the first JSONPath match in the body",
            "documented",
            JSON_EVENTS,
        ),
        _row(
            "runs.required_field_missing",
            "the run fails, naming the field and its JSONPath",
            "assumed",
            "a workflow whose task needs the field cannot run",
        ),
        _row(
            "runs.required_field_null_or_empty",
            "the run fails, like a missing field",
            "assumed",
            'JSONPath finds null or "", which no task can use',
        ),
        _row("runs.retention_days", s.retention_days, "documented", RUN_HISTORY),
        _row(
            "runs.history_limit",
            s.history_limit,
            "assumed",
            "runs kept per workflow, oldest evicted; Qualtrics documents no count",
        ),
        _row(
            "runs.payload_storage",
            s.payload_storage,
            "extension",
            "raw, redacted or none: the mock keeps the body so a test can read it",
        ),
        _row(
            "runs.task_retries",
            "not modelled",
            "assumed",
            "Qualtrics retries failed tasks on 429 and 5xx; the mock's runs have no tasks",
        ),
        _row(
            "alerts.delay_over_150_minutes",
            "not modelled",
            "assumed",
            "an Adobe dataflow alert; the mock never delays a run that long",
        ),
        _row(
            "admin.api",
            "/__admin/ (workflows, runs, journal, faults, reset, behaviours)",
            "extension",
            "Qualtrics has no such API; it is how tests drive the mock",
        ),
        _row(
            "admin.faults",
            "injected status, Retry-After, latency or dropped connection",
            "extension",
            "POST /__admin/faults",
        ),
        _row(
            "admin.host_allow_list",
            _hosts(s),
            "extension",
            "421 for any other Host (DNS rebinding); 403 for cross-origin writes; 415 for"
            " writes that are not application/json",
        ),
    ]


def _hosts(settings: Settings) -> str:
    public = ", ".join(settings.public_hosts)
    if settings.admin_token and not public:
        return "any (the admin token guards the admin API and UI)"
    return "loopback addresses, localhost" + (f", {public}" if public else "")


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    if text.startswith("http"):
        text = f"<{text.split(' ', 1)[0]}>" + (f" {text.split(' ', 1)[1]}" if " " in text else "")
    return text.replace("|", "\\|")


def markdown_table(settings: Settings | None = None) -> str:
    """The README's table: one row per behaviour."""
    lines = ["| behaviour | value | source | reference |", "|---|---|---|---|"]
    for row in behaviours(settings):
        cells = (f"`{row['name']}`", _cell(row["value"]), row["source"], _cell(row["reference"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - exercised by the README test through the function
    print(markdown_table(), end="")
