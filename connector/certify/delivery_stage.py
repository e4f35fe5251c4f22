"""The delivery checks: the real connector, over real HTTP, into a mock's workflow.

Certification creates its own user (random API token: no real token is ever needed) and, per
check, a workflow whose JSON Event fields are the activation's workflow fields. Profiles go
through ``connector.delivery.deliver`` (outbox, auth, retries) exactly as ``qharness send`` would
send them; the mock's run history and event journal are the evidence. The mock is meant to be
faithful (no deduplication), so a lost response shows what it does live: a second run.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jsonpath

from mock_qualtrics.client import MockAdmin

from .. import exactjson
from ..activation import Activation
from ..delivery import DeliveryOptions, DeliveryReport, deliver
from ..errors import AuthRejected
from ..render import Payload, Renderer
from ..sample import sample_profiles
from ..workflow_fields import cap_fields, mock_fields
from .checks import CheckResult, register

__all__ = ["DeliveryPlan", "fed_fields", "run_delivery"]

#: Injected before the retry check's delivery: a 429 with Retry-After (costs ~1 s), then a 503.
RETRY_FAULTS: Final = ({"status": 429, "retry_after": 1, "count": 1}, {"status": 503, "count": 1})
#: Injected before the one-run check: the mock processes one request, then drops the connection.
LOST_RESPONSE: Final = {"drop_connection": True, "count": 1}


@dataclass(frozen=True, slots=True)
class DeliveryPlan:
    """What to deliver (payloads the exploration rendered), and the mock workflow's fields
    (``None``: the activation's)."""

    payloads: Sequence[Payload]
    seed: int
    workflow_fields: Sequence[dict[str, Any]] | None = None


def _fields(activation: Activation, plan: DeliveryPlan) -> tuple[list[dict[str, Any]], str]:
    if plan.workflow_fields is None:
        return mock_fields(activation.workflow_fields)
    return cap_fields([dict(f) for f in plan.workflow_fields])


def _rendered(activation: Activation, profiles: Sequence[Any]) -> list[Payload]:
    """The payloads of ``profiles``, each rendered once: the same objects are delivered and
    checked against the runs (profile -> payload, never back)."""
    renderer = Renderer(activation)
    payloads: list[Payload] = []
    for profile in profiles:
        try:
            result = renderer.render(profile)
        except Exception:  # noqa: S112 - the property checks report rendering problems  # nosec B112
            continue
        if isinstance(result, Payload):
            payloads.append(result)
    return payloads


def _expected_events(payloads: Sequence[Payload]) -> dict[str, dict[str, Any]]:
    """event id -> payload document, for the payloads the connector will send."""
    events: dict[str, dict[str, Any]] = {}
    for payload in payloads:
        events.setdefault(payload.event_id, payload.document)
    return events


class _Session:
    def __init__(
        self,
        activation: Activation,
        admin: MockAdmin,
        fields: list[dict[str, Any]],
        mock_hosts: tuple[str, ...] = (),
    ) -> None:
        self.activation = activation
        self.mock_hosts = mock_hosts
        self.admin = admin
        self.fields = fields
        self.username = f"qharness-certify-{secrets.token_hex(4)}@example.com"
        self.token = secrets.token_urlsafe(24)
        admin.add_user(self.username, self.token)

    def workflow(self, purpose: str) -> dict[str, Any]:
        name = f"certify {self.activation.destination.name} ({purpose})"[:200]
        return self.admin.create_workflow(name, self.username, self.fields)

    def deliver(
        self, workflow: dict[str, Any], payloads: Sequence[Payload], *, token: str | None = None
    ) -> DeliveryReport:
        """Deliver ``payloads`` as ``qharness send`` would (outbox, auth, retries); the reader
        passes rendered payloads on as they are."""
        with tempfile.TemporaryDirectory(prefix="qharness-certify-") as state:
            options = DeliveryOptions(
                url=str(workflow["trigger_url"]),
                username=self.username,
                allow_http_loopback=True,
                allow_mock_hosts=self.mock_hosts,
                max_retry_time=30.0,
            )
            return deliver(
                self.activation,
                payloads,
                token=token or self.token,
                state_dir=Path(state),
                options=options,
            )


def _check_runs(
    admin: MockAdmin,
    workflow_id: str,
    events: dict[str, dict[str, Any]],
    fields: list[dict[str, Any]],
    *,
    explained: int = 0,
) -> tuple[list[str], int, set[str]]:
    """Problems with the runs, how many duplicate runs there were, and the names of the fields
    that received a value in at least one run (evidence may claim no more than that).

    Each event needs a Succeeded run with every field extracted; a second run of one event is
    a problem unless ``explained`` (resends after a lost response) covers it.
    """
    journal, runs = _settled(admin, workflow_id)
    key_of = {
        e["requestId"]: e.get("idempotency_key") for e in journal if e.get("outcome") == "accepted"
    }
    problems: list[str] = []
    failed: dict[str, list[str]] = {}
    by_event: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        key = key_of.get(run.get("requestId"))
        if key is None:
            key = next((eid for eid, doc in events.items() if run.get("payload") == doc), None)
        if key is None or key not in events:
            problems.append(
                f"run {run.get('id')} ({run.get('status')}) matches no event that was sent"
            )
            continue
        by_event.setdefault(key, []).append(run)
    duplicates = 0
    received: set[str] = set()
    for event_id, document in events.items():
        found = by_event.get(event_id, [])
        if not found:
            problems.append(f"event {event_id}: no run; {_answered(journal, event_id)}")
            continue
        duplicates += len(found) - 1
        run = found[-1]  # newest first: the last is the first run
        if run.get("status") != "Succeeded":
            failed.setdefault(f"{run.get('status')}: {run.get('error')}", []).append(event_id)
            continue
        extracted = run.get("fields") or {}
        received.update(name for name, value in extracted.items() if value is not None)
        for item in fields:
            matches = jsonpath.findall(item["jsonpath"], document)
            if matches and item["name"] not in extracted:
                problems.append(
                    f"event {event_id}: field {item['name']!r} ({item['jsonpath']}) "
                    "was not extracted"
                )
            elif matches and not _same_value(extracted[item["name"]], matches[0]):
                problems.append(
                    f"event {event_id}: field {item['name']!r} extracted as "
                    f"{extracted[item['name']]!r:.60}, "
                    f"expected {matches[0]!r:.60}"
                )
    if duplicates > explained:
        problems.insert(
            0,
            f"{duplicates} duplicate run(s), only {explained} explained by a resend after a "
            "lost response: the connector sent an event twice without cause",
        )
    # One line per distinct run error, not per event: "16 of 16 runs Failed: required field ...".
    for error, event_ids in failed.items():
        shown = ", ".join(event_ids[:3]) + (", ..." if len(event_ids) > 3 else "")
        problems.insert(0, f"{len(event_ids)} of {len(events)} runs {error} (events {shown})")
    return problems, duplicates, received


def _settled(
    admin: MockAdmin, workflow_id: str, timeout: float = 30.0
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The workflow's journal, and its runs once every request the journal shows accepted has
    finished its run: each accepted request makes one run (a resend after a lost response
    included), so that is exactly what to wait for, and never for a run no 202 promised."""
    journal = admin.events(workflow_id)
    accepted = sum(1 for e in journal if e.get("outcome") == "accepted")
    return journal, admin.wait_for_runs(workflow_id, accepted, timeout=timeout) if accepted else []


def _answered(journal: Sequence[dict[str, Any]], event_id: str) -> str:
    """What the mock's journal says it answered the event's requests: the evidence for an event
    without a run names what happened (``the mock answered 429 locked-out (3x)``), never assumes
    it was lost."""
    answers = Counter(
        f"{e.get('status_code')} {e.get('outcome')}"
        for e in journal
        if e.get("idempotency_key") == event_id
    )
    if not answers:
        return "none of its requests reached the mock"
    said = ", ".join(f"{answer} ({n}x)" for answer, n in answers.most_common())
    return f"the mock answered {said}"


def _lockout(journal: Sequence[dict[str, Any]]) -> list[str]:
    """The cause, when the mock locked the client out: a line to put first, else nothing."""
    if not any(e.get("outcome") == "locked-out" for e in journal):
        return []
    return [
        "the mock locked this client's address out (429 locked-out) after repeated failed "
        "authentications, so nothing it sent could be accepted: each certification sends one "
        "wrong token; wait for the lockout to end, reset the mock (POST /__admin/reset), or "
        "raise the mock's [limits] lockout_failures"
    ]


def fed_fields(fields: Sequence[dict[str, Any]], received: set[str]) -> str:
    """``all 5 workflow fields received a value`` or ``4 of 5 ...; `loyaltyTier` never did``."""
    never = [f["name"] for f in fields if f["name"] not in received]
    if not never:
        return f"all {len(fields)} workflow fields received a value"
    named = ", ".join(f"`{name}`" for name in never)
    return (
        f"{len(fields) - len(never)} of {len(fields)} workflow fields received a value; "
        f"{named} never did"
    )


def _same_value(extracted: Any, expected: Any) -> bool:
    """A field value as the admin API reports it, against the payload's.

    The admin client parses with the standard JSON parser, which keeps integers exact but reads
    ``1.50`` as ``1.5`` and ``1e400`` as infinity; a number is therefore compared as its text when
    the parse kept it, and as the nearest float otherwise. The mock's own tests prove it keeps the
    text byte-exact.
    """
    if isinstance(expected, list) and isinstance(extracted, list):
        return len(expected) == len(extracted) and all(
            _same_value(x, e) for x, e in zip(extracted, expected, strict=True)
        )
    if isinstance(expected, dict) and isinstance(extracted, dict):
        return expected.keys() == extracted.keys() and all(
            _same_value(extracted[k], expected[k]) for k in expected
        )
    wanted = exactjson.number_text(expected)
    if wanted is None or isinstance(extracted, bool):
        return bool(extracted == expected)
    if exactjson.number_text(extracted) == wanted:
        return True
    return isinstance(extracted, float) and float(expected) == extracted


def _timed(
    name: str, started: float, passed: bool, evidence: str, details: str = ""
) -> CheckResult:
    return CheckResult(name, passed, evidence, time.perf_counter() - started, details)


@register(
    "delivery.one-run-per-event",
    stage="delivery",
    title="Every event delivered makes exactly one Succeeded run",
)
def _one_run_per_event(session: _Session, plan: DeliveryPlan, note: str) -> CheckResult:
    """Every event arrives; a second run is allowed only where a response was lost.

    The mock is faithful (no deduplication, like Qualtrics) and loses one response after
    processing the request. The connector cannot know the run exists, so it resends: at-least-once
    delivery makes a duplicate run there, which is reported as evidence, not as a failure.
    """
    started = time.perf_counter()
    name = "delivery.one-run-per-event"
    samples = sample_profiles(session.activation, 4, seed=plan.seed)
    payloads = [*plan.payloads, *_rendered(session.activation, samples)]
    events = _expected_events(payloads)
    workflow = session.workflow("one run per event")
    session.admin.inject_fault(**LOST_RESPONSE, workflow_id=str(workflow["id"]))
    report = session.deliver(workflow, payloads)
    problems = []
    if report.delivered != len(events) or report.pending or report.dead_lettered:
        problems.append(
            f"{len(events)} events to send; delivered {report.delivered}, "
            f"pending {report.pending}, "
            f"dead-lettered {report.dead_lettered} ({dict(report.failed)})"
        )
    resends = report.unknown_outcome_resends
    found, duplicates, received = _check_runs(
        session.admin, str(workflow["id"]), events, session.fields, explained=resends
    )
    problems += found
    if problems:
        problems = _lockout(session.admin.events(str(workflow["id"]))) + problems
        return _timed(name, started, False, problems[0], "\n".join(problems[1:20]))
    return _timed(
        name, started, True,
        f"{len(events)} events sent, each with a Succeeded run; "
        f"{fed_fields(session.fields, received)}{note}; "
        f"1 response lost after processing: {resends} resend(s) of unknown outcome made "
        f"{duplicates} duplicate run(s) (at-least-once; Qualtrics does not deduplicate)",
    )  # fmt: skip


@register(
    "delivery.wrong-credentials",
    stage="delivery",
    title="Wrong credentials stop delivery with a clear error and no run",
)
def _wrong_credentials(session: _Session, plan: DeliveryPlan) -> CheckResult:
    started = time.perf_counter()
    name = "delivery.wrong-credentials"
    workflow = session.workflow("wrong credentials")
    payloads = _rendered(
        session.activation, sample_profiles(session.activation, 2, seed=plan.seed + 1)
    )
    wrong = "wrong-" + secrets.token_urlsafe(16)
    try:
        session.deliver(workflow, payloads[:1], token=wrong)
    except AuthRejected as exc:
        rejected: int | None = exc.status_code
    else:
        rejected = None
    expected, source = _wrong_token_status(session)
    journal = session.admin.events(str(workflow["id"]))
    unauthorized = [e for e in journal if e.get("status_code") == expected]
    # One good event afterwards: once its run finished, any run from the rejected one would show.
    session.deliver(workflow, payloads[1:])
    journal, runs = _settled(session.admin, str(workflow["id"]), timeout=15)
    problems = []
    if rejected != expected:
        problems.append(
            f"the connector was not stopped with {expected} (got {rejected or 'no rejection'})"
        )
    if not unauthorized:
        problems.append(f"the mock's journal shows no {expected} for the wrong token")
    if len(runs) != 1:
        problems.append(f"{len(runs)} runs recorded; expected only the one for the valid event")
    if problems:
        problems = _lockout(journal) + problems
        return _timed(name, started, False, problems[0], "\n".join(problems[1:]))
    return _timed(
        name,
        started,
        True,
        f"wrong API token: {expected} ({source}), sending stopped, no run recorded"
        " (a valid event then ran once)",
    )


def _wrong_token_status(session: _Session) -> tuple[int, str]:
    """The status the mock answers a wrong token with, and its source: 401 (assumed) unless the
    mock follows a fidelity record that observed another (``GET /__admin/behaviours``)."""
    for row in session.admin.behaviours():
        if row.get("name") == "status.unauthorized.wrong_token" and isinstance(row["value"], int):
            return int(row["value"]), str(row.get("source", "assumed"))
    return 401, "assumed"  # a mock from before the credential cases were split


@register(
    "delivery.retries", stage="delivery", title="429 and 5xx answers are retried without loss"
)
def _retries(session: _Session, plan: DeliveryPlan) -> CheckResult:
    started = time.perf_counter()
    name = "delivery.retries"
    workflow = session.workflow("retries")
    workflow_id = str(workflow["id"])
    for fault in RETRY_FAULTS:
        session.admin.inject_fault(workflow_id=workflow_id, **fault)
    payloads = _rendered(
        session.activation, sample_profiles(session.activation, 3, seed=plan.seed + 2)
    )
    events = _expected_events(payloads)
    report = session.deliver(workflow, payloads)
    journal = session.admin.events(workflow_id)
    statuses = sorted(
        int(e.get("status_code") or 0) for e in journal if e.get("outcome") == "fault"
    )
    problems = []
    if statuses != [429, 503]:
        problems.append(
            f"faults answered: {statuses}; expected one 429 (Retry-After: 1) and one 503"
        )
    if report.retries < 2:
        problems.append(f"{report.retries} retries; expected at least 2")
    if report.delivered != len(events) or report.pending or report.dead_lettered:
        problems.append(
            f"{len(events)} events; delivered {report.delivered}, pending {report.pending}, "
            f"dead-lettered {report.dead_lettered}: not all delivered"
        )
    problems += _check_runs(session.admin, workflow_id, events, session.fields)[0]
    if problems:  # a lockout happens while delivering: the journal read above shows it
        problems = _lockout(journal) + problems
        return _timed(name, started, False, problems[0], "\n".join(problems[1:]))
    return _timed(
        name, started, True,
        f"429 (Retry-After: 1) and 503 injected: {report.retries} retries, {len(events)} events "
        f"delivered, one Succeeded run each, no loss, no duplicate",
    )  # fmt: skip


def run_delivery(
    activation: Activation,
    mock_url: str,
    plan: DeliveryPlan,
    *,
    admin_token: str | None = None,
    mock_hosts: tuple[str, ...] = (),
) -> list[CheckResult]:
    """The three delivery checks against the mock at ``mock_url`` (``admin_token``: if it has one;
    ``mock_hosts``: names besides loopback its trigger URLs may use over plain http)."""
    admin = MockAdmin(mock_url, admin_token=admin_token)
    try:
        admin.health()
        fields, note = _fields(activation, plan)
        session = _Session(activation, admin, fields, mock_hosts)
        return [
            _one_run_per_event(session, plan, note),
            _wrong_credentials(session, plan),
            _retries(session, plan),
        ]
    finally:
        admin.close()
