"""The admin API under ``/__admin/``: users, workflows, runs, the journal, faults, reset.

The OpenAPI document (:mod:`mock_qualtrics.openapi`) describes exactly these routes, and
``GET /__admin/behaviours`` lists every behaviour of the mock with its source. The checks that keep
web pages out (Host, Origin, Content-Type) run before these views, in :mod:`mock_qualtrics.guard`.
Bodies and query strings are checked against that document (:mod:`mock_qualtrics.admin_schema`):
validation errors are 400 with a message that names the field.
The run list's long-poll (``wait_for``/``timeout``) sleeps on the store's commit condition, so it
answers as soon as the N-th matching run has finished.
"""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for

from contracts import facts

from . import exactjson
from .admin_schema import admin_schema
from .behaviours import behaviours
from .config import settings_of
from .envelope import MockError, json_response
from .faults import parse_fault
from .guard import admin_lockout
from .state import current_state
from .workflows import ValidationError, Workflow

__all__ = ["bp", "check_admin_token"]

bp = Blueprint("admin", __name__, url_prefix="/__admin")

RUN_STATUSES = facts.RUN_STATUSES


def check_admin_token() -> None:
    """Require the admin token (Bearer, or Basic with it as password) when one is configured.

    A client that sends a wrong token 10 times within 60 s is locked out for 5 minutes (the
    trigger's lockout numbers, ``LOCKOUT_*``), valid token included: 429 with Retry-After.
    """
    expected = settings_of(current_app).admin_token
    if not expected:
        return
    lockout = admin_lockout()
    client = request.remote_addr or "unknown"
    locked = lockout.locked_for(client)
    if locked:
        raise MockError(
            429,
            "Too many wrong admin tokens from this client: wait, then send the right one",
            "ADMIN_LOCKED_OUT",
            headers={"Retry-After": str(max(1, math.ceil(locked)))},
        )
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    given = ""
    if scheme.lower() == "bearer":
        given = value.strip()
    elif scheme.lower() == "basic" and request.authorization is not None:
        given = request.authorization.password or ""
    if not hmac.compare_digest(given.encode(), str(expected).encode()):
        if header:  # a wrong token counts; no token at all is a browser's first, unprompted try
            lockout.record_failure(client)
        raise MockError(
            401,
            "The admin token is missing or wrong",
            "ADMIN_UNAUTHORIZED",
            headers={"WWW-Authenticate": 'Basic realm="mock_qualtrics"'},
        )


@bp.before_request
def _guard() -> None:
    if request.endpoint not in ("admin.health", "admin.openapi"):
        check_admin_token()


def _body(operation_id: str) -> Any:
    """The JSON body, valid against the operation's schema in the OpenAPI document."""
    data = request.get_json(silent=True)
    if data is None:
        raise ValidationError("body: must be a JSON object (Content-Type: application/json)")
    admin_schema(settings_of(current_app)).body(operation_id, data)
    return data


def _query(operation_id: str) -> dict[str, Any]:
    """The query parameters, typed and valid as the OpenAPI document says."""
    return admin_schema(settings_of(current_app)).query(operation_id, request.args)


def _exact_response(body: Any) -> Response:
    """Run records as JSON, every number in a payload or field written as the sender wrote it."""
    return Response(exactjson.dumps(body), mimetype="application/json")


def _workflow_json(workflow: Workflow) -> dict[str, Any]:
    body = workflow.as_dict()
    body["trigger_url"] = url_for(
        "trigger.trigger", shape="json", urlTokenId=workflow.url_token_id, _external=True
    )
    return body


def _workflow_or_404(workflow_id: str) -> Workflow:
    workflow = current_state().workflow(workflow_id)
    if workflow is None:
        raise MockError(404, f"no workflow {workflow_id!r}", "NOT_FOUND")
    return workflow


@bp.get("/health")
def health() -> Response:
    return json_response({"status": "ok"})


@bp.post("/users")
def create_user() -> Response:
    username = current_state().put_user(_body("createUser"))
    return json_response({"username": username}, 201)


@bp.get("/users")
def list_users() -> Response:
    return json_response({"users": [{"username": n} for n in current_state().users.names()]})


@bp.post("/workflows")
def create_workflow() -> Response:
    workflow = current_state().put_workflow(_body("createWorkflow"))
    return json_response(_workflow_json(workflow), 201)


@bp.get("/workflows")
def list_workflows() -> Response:
    return json_response({"workflows": [_workflow_json(w) for w in current_state().workflows()]})


@bp.get("/workflows/<workflow_id>")
def get_workflow(workflow_id: str) -> Response:
    return json_response(_workflow_json(_workflow_or_404(workflow_id)))


@bp.patch("/workflows/<workflow_id>")
def patch_workflow(workflow_id: str) -> Response:
    _workflow_or_404(workflow_id)
    workflow = current_state().patch_workflow(workflow_id, _body("patchWorkflow"))
    if workflow is None:
        raise MockError(404, f"no workflow {workflow_id!r}", "NOT_FOUND")
    return json_response(_workflow_json(workflow))


@bp.delete("/workflows/<workflow_id>")
def delete_workflow(workflow_id: str) -> Response:
    if not current_state().delete_workflow(workflow_id):
        raise MockError(404, f"no workflow {workflow_id!r}", "NOT_FOUND")
    return Response(status=204)


@bp.get("/workflows/<workflow_id>/runs")
def list_runs(workflow_id: str) -> Response:
    state = current_state()
    if not state.is_deleted(workflow_id):  # a deleted workflow's runs are kept and still list
        _workflow_or_404(workflow_id)
    query = _query("listRuns")
    status = query["status"]
    limit = min(query["limit"], state.store.history_limit)
    offset, wait_for, timeout = query["offset"], query["wait_for"], float(query["timeout"])
    timed_out = False
    if wait_for:
        deadline = time.monotonic() + timeout
        while True:
            generation = state.store.generation
            if state.store.count_finished(workflow_id, status) >= wait_for:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            if not state.store.wait_change(generation, remaining) and (
                state.store.generation == generation
            ):
                timed_out = True  # timed out, or the mock is shutting down
                break
    runs = state.store.list_runs(
        workflow_id, status=status, limit=limit, offset=offset, before=_cursor(query["before"])
    )
    return _exact_response({"runs": runs, "timed_out": timed_out})


def _cursor(run_id: str | None) -> int | None:
    """The store's cursor for the ``before`` run id (404 when that run is not kept)."""
    if run_id is None:
        return None
    cursor = current_state().store.run_cursor(run_id)
    if cursor is None:
        raise MockError(
            404, f"before: no run {run_id!r} is kept (evicted, or never made)", "NOT_FOUND"
        )
    return cursor


@bp.get("/runs")
def list_all_runs() -> Response:
    """Every workflow's runs (deleted workflows' included), newest first."""
    state = current_state()
    query = _query("listAllRuns")
    runs = state.store.list_runs(
        query["workflow_id"],
        status=query["status"],
        limit=min(query["limit"], state.store.history_limit),
        offset=query["offset"],
        before=_cursor(query["before"]),
    )
    return _exact_response({"runs": runs})


@bp.get("/runs/<run_id>")
def get_run(run_id: str) -> Response:
    run = current_state().store.get_run(run_id)
    if run is None:
        raise MockError(404, f"no run {run_id!r}", "NOT_FOUND")
    return _exact_response(run)


@bp.get("/events")
def list_events() -> Response:
    query = _query("listEvents")
    store = current_state().store
    limit = min(query["limit"], store.journal_limit)
    events = store.list_events(
        workflow_id=query["workflow_id"], limit=limit, offset=query["offset"]
    )
    return json_response({"events": events})


@bp.get("/export")
def export() -> Response:
    store = current_state().store

    def lines() -> Iterator[bytes]:
        for record in store.export():
            yield exactjson.dumps(record) + b"\n"

    return Response(lines(), mimetype="application/x-ndjson")


@bp.post("/reset")
def reset() -> Response:
    """Reset. The body is a JSON object (``{}`` for the defaults), like every admin write's:
    a body that is not one, or none, is refused (400) rather than read as "reset"; a
    destructive call is never made on a garbled request."""
    data = _body("reset")
    everything = bool(data.get("everything", False))
    current_state().reset(everything=everything)
    return json_response({"status": "reset", "everything": everything})


@bp.post("/faults")
def add_fault() -> Response:
    fault = parse_fault(_body("addFault"))
    current_state().faults.add(fault)
    return json_response(fault.as_dict(), 201)


@bp.get("/faults")
def list_faults() -> Response:
    return json_response({"faults": current_state().faults.list()})


@bp.delete("/faults")
def clear_faults() -> Response:
    current_state().faults.clear()
    return Response(status=204)


@bp.get("/behaviours")
def list_behaviours() -> Response:
    """Every behaviour with its source (documented, assumed, extension, observed), from the live
    settings and the fidelity record the mock follows."""
    rows = behaviours(settings_of(current_app))
    record = current_state().fidelity
    return json_response(rows if record is None else record.behaviour_rows(rows))


@bp.get("/openapi.json")
def openapi() -> Response:
    from .openapi import document

    return json_response(document(settings_of(current_app)))
