"""The browser UI: workflows, their run history in Qualtrics' two views, a run's details.

Server-rendered Jinja templates (autoescaped, no JavaScript needed), read-only. The views mirror
Qualtrics' run history: "Successfully started with tasks run" lists Succeeded runs and "Failed to
start after triggered" lists Failed ones; "All runs" adds a status filter. Runs whose workflow
was deleted stay listed under "Deleted Workflow", as in Qualtrics. What Qualtrics does not have
(the ``duplicate_of`` marker, the stored payload, the event journal) is labelled an extension
where it shows. When an admin token is configured the UI asks for it (HTTP Basic, any user name,
the token as password).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from flask import Blueprint, abort, render_template, request

from . import exactjson
from .admin import RUN_STATUSES, check_admin_token
from .state import DELETED_WORKFLOW, current_state

__all__ = ["VIEWS", "DeletedWorkflow", "bp"]

bp = Blueprint("ui", __name__, template_folder="templates")

#: view name -> (title, status shown)
VIEWS: dict[str, tuple[str, str | None]] = {
    "succeeded": ("Successfully started with tasks run", "Succeeded"),
    "failed": ("Failed to start after triggered", "Failed"),
    "all": ("All runs", None),
}
PAGE = 100


@bp.before_request
def _guard() -> None:
    check_admin_token()


@dataclass(frozen=True, slots=True)
class DeletedWorkflow:
    """What the UI shows for runs whose workflow is gone: Qualtrics names it "Deleted Workflow"."""

    id: str
    name: str = DELETED_WORKFLOW
    owner: str = ""
    enabled: bool = False
    fields: tuple[Any, ...] = ()
    deleted: bool = True


@bp.get("/")
def index() -> str:
    state = current_state()
    counts = state.store.run_counts()
    workflows = state.workflows()
    known = {wf.id for wf in workflows}
    deleted = [DeletedWorkflow(wid) for wid in sorted(counts) if wid not in known]
    return render_template("index.html", workflows=workflows, deleted=deleted, counts=counts)


@bp.get("/workflows/<workflow_id>")
def workflow(workflow_id: str) -> str:
    state = current_state()
    wf: Any = state.workflow(workflow_id)
    if wf is None:
        if workflow_id not in state.store.run_counts():
            abort(404, "no workflow with this id")
        wf = DeletedWorkflow(workflow_id)  # its runs are kept, as Qualtrics keeps them
    view = request.args.get("view", "succeeded")
    if view not in VIEWS:
        view = "succeeded"
    title, status = VIEWS[view]
    if view == "all":
        wanted = request.args.get("status") or None
        status = wanted if wanted in RUN_STATUSES else None
    try:
        page = max(0, int(request.args.get("page", "0")))
    except ValueError:
        page = 0
    runs = state.store.list_runs(workflow_id, status=status, limit=PAGE + 1, offset=page * PAGE)
    return render_template(
        "workflow.html",
        wf=wf,
        views=VIEWS,
        view=view,
        title=title,
        status=status,
        statuses=RUN_STATUSES,
        runs=runs[:PAGE],
        page=page,
        more=len(runs) > PAGE,
    )


@bp.get("/runs/<run_id>")
def run(run_id: str) -> str:
    state = current_state()
    record = state.store.get_run(run_id)
    if record is None:
        abort(404, "no run with this id")
    wf = state.workflow(record["workflow_id"])
    payload = (
        None
        if record["payload"] is None
        else exactjson.dumps(record["payload"], option=orjson.OPT_INDENT_2).decode()
    )
    # Values as JSON text written by exactjson: Jinja's tojson would round 1.50 to 1.5.
    fields = {name: exactjson.dumps(value).decode() for name, value in record["fields"].items()}
    return render_template("run.html", run=record, wf=wf, payload=payload, fields=fields)


@bp.get("/events")
def events() -> str:
    state = current_state()
    return render_template(
        "events.html", events=state.store.list_events(limit=500), workflows=state.workflows()
    )
