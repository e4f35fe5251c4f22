"""The admin API's OpenAPI 3.1 document, written out by hand next to the routes it describes.

Kept as data (not generated from code) so that it reads like the API's reference; a test checks
that its paths and methods are exactly the admin blueprint's routes, and schemathesis checks that
the live mock's answers conform to it. It is also the one source of the admin API's input rules:
:mod:`mock_qualtrics.admin_schema` validates every request body and query string against it, so
code and document cannot drift. It is built from the mock's config (fields per workflow, the
long-poll's maximum), and a run's schema is the ``run-record`` contract itself, embedded. The trigger endpoint is not part of it: it speaks Qualtrics'
protocol, which the harness' contracts describe.
"""

from __future__ import annotations

from typing import Any

import orjson

import contracts
from contracts.facts import RUN_STATUSES

from .config import Settings
from .records import EVENT_KEYS

__all__ = ["JSONPATH", "NON_BLANK", "document"]

_TS = {
    "type": "string",
    "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$",
}
#: The field shape's two string rules, from the ``workflow-field`` contract (one truth): a name
#: with a character that is white space to neither Python nor ECMAScript, and the JSONPath the
#: mock takes (``$`` then ``.name``, ``..name``, ``.*``, ``[0]``, ``[-1]``, ``[*]``,
#: ``['any name']``; every string it matches compiles, a property test checks). Python's ``\S``
#: and ECMA-262's differ, so the name rule spells its white space out, and the JSONPath ends with
#: ``(?![\s\S])``, not ``$`` (Python's ``$`` also matches before a final newline).
NON_BLANK: str = contracts.load("workflow-field")["properties"]["name"]["pattern"]
JSONPATH: str = contracts.load("workflow-field")["properties"]["jsonpath"]["pattern"]
#: A name (of a workflow, a field, a user): the contract's field name rule, non-blank and short.
_NAME = {
    k: v
    for k, v in contracts.load("workflow-field")["properties"]["name"].items()
    if k != "description"
}
_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_COUNT = {"type": "integer", "minimum": 0, "maximum": 2**53}  # offsets SQLite can take


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _contract(name: str) -> dict[str, Any]:
    """Contract ``name`` as a component: the shape the connector checks is the one served."""
    schema = contracts.load(name)
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    return schema


def _run_record() -> dict[str, Any]:
    """The ``run-record`` contract, its ``definitions`` moved to the document's components."""
    schema = contracts.load("run-record")
    definitions = schema.pop("definitions", {})
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    text = orjson.dumps(schema).decode()
    for name in definitions:
        text = text.replace(f'"#/definitions/{name}"', f'"#/components/schemas/{name.title()}"')
    return {"Run": orjson.loads(text)} | {n.title(): d for n, d in definitions.items()}


def _schemas(max_fields: int) -> dict[str, Any]:
    fields = {
        "type": "array",
        "maxItems": max_fields,
        "uniqueItems": True,
        "items": _ref("Field"),
        "description": "field names are unique within a workflow (400 otherwise)",
    }
    return {
        "Error": {
            "type": "object",
            "required": ["meta"],
            "properties": {
                "meta": {
                    "type": "object",
                    "required": ["httpStatus", "error"],
                    "properties": {
                        "httpStatus": {"type": "string"},
                        "requestId": {"type": "string"},
                        "error": {
                            "type": "object",
                            "required": ["errorMessage", "errorCode"],
                            "properties": {
                                "errorMessage": {"type": "string"},
                                "errorCode": {"type": "string"},
                            },
                        },
                    },
                }
            },
        },
        "Field": _contract("workflow-field"),
        "WorkflowInput": {
            "type": "object",
            "required": ["name", "owner"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "pattern": r"^[A-Za-z0-9_.\-]{1,64}$"},
                "url_token_id": {"type": "string", "format": "uuid", "pattern": _UUID},
                "name": _NAME,
                "owner": {**_NAME, "description": "user name of the owner"},
                "enabled": {"type": "boolean", "default": True},
                "auth_required": {"type": "boolean", "default": True},
                "fields": fields,
            },
        },
        "WorkflowPatch": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": _NAME,
                "owner": _NAME,
                "enabled": {"type": "boolean"},
                "auth_required": {"type": "boolean"},
                "fields": fields,
            },
        },
        "Workflow": {
            "type": "object",
            "required": [
                "id",
                "name",
                "owner",
                "urlTokenId",
                "enabled",
                "auth_required",
                "fields",
                "trigger_url",
            ],
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "owner": {"type": "string"},
                "urlTokenId": {"type": "string"},
                "enabled": {"type": "boolean"},
                "auth_required": {"type": "boolean"},
                "fields": {"type": "array", "items": _ref("Field")},
                "trigger_url": {"type": "string"},
            },
        },
        "Behaviour": {
            "type": "object",
            "required": ["name", "value", "source", "reference"],
            "properties": {
                "name": {"type": "string"},
                "value": {},
                "source": {"enum": ["documented", "assumed", "extension", "observed"]},
                "reference": {"type": "string"},
                "observed": {
                    "type": "object",
                    "required": ["at", "host", "verdict"],
                    "properties": {
                        "at": {"type": "string"},
                        "host": {"type": "string"},
                        "verdict": {"enum": ["matches", "differs"]},
                    },
                },
            },
        },
        "Event": {
            "type": "object",
            "required": list(EVENT_KEYS),
            "properties": {
                "requestId": {"type": "string"},
                "received_at": _TS,
                "workflow_id": {"type": ["string", "null"]},
                "status_code": {"type": ["integer", "null"]},
                "outcome": {"type": "string"},
                "idempotency_key": {"type": ["string", "null"]},
            },
        },
        "FaultInput": _contract("fault"),
        "Fault": {
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "integer"}},
        },
    } | _run_record()


_WF_ID = {"name": "workflow_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _q(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


#: The keyset cursor of the run lists: the next page is a range read off an index, as cheap at
#: the millionth run as at the first (an ``offset`` walks every run it skips).
_BEFORE = _q(
    "before",
    {"type": "string", "minLength": 1},
    "a run id: only runs older than it (pass the last run of the previous page)",
)


def _paths(max_wait: float) -> dict[str, Any]:
    bad = _error("validation error; the message names the field")
    missing = _error("not found")
    return {
        "/__admin/health": {
            "get": {
                "operationId": "health",
                "security": [],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["status"],
                            "properties": {"status": {"const": "ok"}},
                        },
                        "the mock is up",
                    )
                },
            }
        },
        "/__admin/users": {
            "post": {
                "operationId": "createUser",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["username", "api_token"],
                                "additionalProperties": False,
                                "properties": {"username": _NAME, "api_token": _NAME},
                            }
                        }
                    },
                },
                "responses": {
                    "201": _json(
                        {
                            "type": "object",
                            "required": ["username"],
                            "properties": {"username": {"type": "string"}},
                        },
                        "created or replaced (the token is never echoed)",
                    ),
                    "400": bad,
                },
            },
            "get": {
                "operationId": "listUsers",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["users"],
                            "properties": {
                                "users": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["username"],
                                        "properties": {"username": {"type": "string"}},
                                    },
                                }
                            },
                        },
                        "user names",
                    )
                },
            },
        },
        "/__admin/workflows": {
            "post": {
                "operationId": "createWorkflow",
                "description": "Create a workflow (or replace the one with the same id). Beyond"
                " the schema, 400 when a url_token_id is already used by another workflow, or"
                " when two fields share a name.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("WorkflowInput")}},
                },
                "responses": {"201": _json(_ref("Workflow"), "created"), "400": bad},
            },
            "get": {
                "operationId": "listWorkflows",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["workflows"],
                            "properties": {
                                "workflows": {"type": "array", "items": _ref("Workflow")}
                            },
                        },
                        "every workflow",
                    )
                },
            },
        },
        "/__admin/workflows/{workflow_id}": {
            "parameters": [_WF_ID],
            "get": {
                "operationId": "getWorkflow",
                "responses": {"200": _json(_ref("Workflow"), "the workflow"), "404": missing},
            },
            "patch": {
                "operationId": "patchWorkflow",
                "description": "Change some of a workflow's settings. Beyond the schema, 400"
                " when two fields share a name.",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("WorkflowPatch")}},
                },
                "responses": {
                    "200": _json(_ref("Workflow"), "updated"),
                    "400": bad,
                    "404": missing,
                },
            },
            "delete": {
                "operationId": "deleteWorkflow",
                "responses": {"204": {"description": "deleted; its runs are kept"}, "404": missing},
            },
        },
        "/__admin/workflows/{workflow_id}/runs": {
            "parameters": [_WF_ID],
            "get": {
                "operationId": "listRuns",
                "description": "Runs newest first. With wait_for=N, waits until at least N runs "
                "matching the filters have finished, or timeout seconds. A deleted workflow's runs"
                " are kept and still listed here (as Qualtrics keeps them).",
                "parameters": [
                    _q("status", {"enum": list(RUN_STATUSES)}, "filter"),
                    _q(
                        "limit",
                        {"type": "integer", "minimum": 0, "default": 1000},
                        "page size; clamped to the history bound",
                    ),
                    _q("offset", {**_COUNT, "default": 0}, "skip"),
                    _BEFORE,
                    _q(
                        "wait_for",
                        {**_COUNT, "default": 0},
                        "wait until this many matching runs have finished",
                    ),
                    _q(
                        "timeout",
                        {"type": "number", "minimum": 0, "maximum": max_wait, "default": 0},
                        "seconds to wait at most",
                    ),
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["runs", "timed_out"],
                            "properties": {
                                "runs": {"type": "array", "items": _ref("Run")},
                                "timed_out": {"type": "boolean"},
                            },
                        },
                        "the runs",
                    ),
                    "400": bad,
                    "404": missing,
                },
            },
        },
        "/__admin/runs": {
            "get": {
                "operationId": "listAllRuns",
                "description": "Runs of every workflow, deleted ones included, newest first.",
                "parameters": [
                    _q("workflow_id", {"type": "string", "minLength": 1}, "filter"),
                    _q("status", {"enum": list(RUN_STATUSES)}, "filter"),
                    _q(
                        "limit",
                        {"type": "integer", "minimum": 0, "default": 1000},
                        "page size; clamped to the history bound",
                    ),
                    _q("offset", {**_COUNT, "default": 0}, "skip"),
                    _BEFORE,
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["runs"],
                            "properties": {"runs": {"type": "array", "items": _ref("Run")}},
                        },
                        "the runs",
                    ),
                    "400": bad,
                    "404": _error("the before cursor names no kept run"),
                },
            }
        },
        "/__admin/runs/{run_id}": {
            "get": {
                "operationId": "getRun",
                "parameters": [
                    {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": _json(_ref("Run"), "the run"), "404": missing},
            }
        },
        "/__admin/events": {
            "get": {
                "operationId": "listEvents",
                "description": "The event journal, newest first: every trigger attempt.",
                "parameters": [
                    _q("workflow_id", {"type": "string", "minLength": 1}, "filter"),
                    _q("limit", {"type": "integer", "minimum": 0, "default": 1000}, "page size"),
                    _q("offset", {**_COUNT, "default": 0}, "skip"),
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["events"],
                            "properties": {"events": {"type": "array", "items": _ref("Event")}},
                        },
                        "journal entries",
                    ),
                    "400": bad,
                },
            }
        },
        "/__admin/export": {
            "get": {
                "operationId": "export",
                "responses": {
                    "200": {
                        "description": "workflows, runs and journal entries, one object a line",
                        "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/__admin/reset": {
            "post": {
                "operationId": "reset",
                "description": "Forget runs, journal, faults, keys and counters; with "
                "everything=true also users and workflows. The body is a JSON object ({} for"
                " the defaults); without one nothing is reset (400).",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"everything": {"type": "boolean"}},
                            }
                        }
                    },
                },
                "responses": {"200": _json({"type": "object"}, "reset"), "400": bad},
            }
        },
        "/__admin/faults": {
            "post": {
                "operationId": "addFault",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("FaultInput")}},
                },
                "responses": {"201": _json(_ref("Fault"), "queued"), "400": bad},
            },
            "get": {
                "operationId": "listFaults",
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["faults"],
                            "properties": {"faults": {"type": "array", "items": _ref("Fault")}},
                        },
                        "pending faults, in order",
                    )
                },
            },
            "delete": {
                "operationId": "clearFaults",
                "responses": {"204": {"description": "all faults removed"}},
            },
        },
        "/__admin/behaviours": {
            "get": {
                "operationId": "listBehaviours",
                "description": "Every behaviour of the mock, with its value in this mock's config"
                " and its source: documented (with the page), assumed, or extension.",
                "responses": {
                    "200": _json({"type": "array", "items": _ref("Behaviour")}, "behaviours")
                },
            }
        },
        "/__admin/openapi.json": {
            "get": {
                "operationId": "openapi",
                "security": [],
                "responses": {"200": _json({"type": "object"}, "this document")},
            },
        },
    }


def _guarded(paths: dict[str, Any]) -> dict[str, Any]:
    """Add the admin surface's guard answers (:mod:`mock_qualtrics.guard`) to every operation."""
    for item in paths.values():
        for method, operation in item.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            if operation.get("security") != []:
                responses["401"] = _error("the mock has an admin token and it was not sent")
                responses["429"] = _error(
                    "too many wrong admin tokens from this client; see Retry-After"
                )
            responses["421"] = _error(
                "the Host header is not a loopback address, localhost or a --public-host name"
            )
            if method in ("post", "patch", "delete"):
                responses["403"] = _error("a cross-origin Origin or Sec-Fetch-Site")
            if method in ("post", "patch"):
                responses["415"] = _error("the Content-Type is not application/json")
            if method == "delete":
                responses["400"] = _error("a DELETE takes no body")
    return paths


def document(settings: Settings | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the admin API of a mock with ``settings``."""
    settings = settings or Settings()
    max_wait = float(settings.max_wait_seconds)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mock_qualtrics admin API",
            "version": "1.0.0",
            "description": "Workflows, run history, event journal and fault injection of the "
            "Qualtrics JSON Event mock. When the mock has an admin token, every "
            "operation but health needs it as a bearer token.",
        },
        "paths": _guarded(_paths(int(max_wait) if max_wait.is_integer() else max_wait)),
        "components": {
            "schemas": _schemas(settings.max_fields),
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
        },
    }
