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
    runs, newer, older = _page(workflow_id, status)
    return render_template(
        "workflow.html",
        wf=wf,
        views=VIEWS,
        view=view,
        title=title,
        status=status,
        statuses=RUN_STATUSES,
        runs=runs,
        newer=newer,
        older=older,
    )


def _cursor_arg(name: str) -> int | None:
    """The ``name`` cursor of the query string; None when absent or not a SQLite integer (a
    mangled link shows the newest page rather than an error)."""
    try:
        value = int(request.args[name])
    except (KeyError, ValueError):
        return None
    return value if -(2**63) <= value < 2**63 else None


def _page(
    workflow_id: str, status: str | None
) -> tuple[list[dict[str, Any]], int | None, int | None]:
    """A page of runs and the cursors of the "Newer" and "Older" links (None: no link).

    Pages are found by cursor (``?before=`` / ``?after=``, a run's ``seq``), not by number: the
    page after a cursor is a range read off an index, as quick at a million runs as at ten.
    """
    store = current_state().store
    after = _cursor_arg("after")
    if after is not None:
        page = store.run_page(workflow_id, status=status, limit=PAGE + 1, after=after)
        has_newer, page = len(page) > PAGE, page[-PAGE:]
        has_older = True
    else:
        before = _cursor_arg("before")
        page = store.run_page(workflow_id, status=status, limit=PAGE + 1, before=before)
        has_older, page = len(page) > PAGE, page[:PAGE]
        has_newer = before is not None
    if not page:
        return [], None, None
    newer = page[0][0] if has_newer else None
    older = page[-1][0] if has_older else None
    return [record for _, record in page], newer, older


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
