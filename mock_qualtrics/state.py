"""The mock's in-memory state around the store: users, workflows, keys, counters, faults.

Everything a trigger request checks lives in memory (dictionaries behind locks) so that the hot
path never waits for SQLite; every change that must survive a restart is written to the store
first and remembered in memory only once committed, so memory never drifts from disk. One
:class:`MockState`, holding the app's one :class:`~mock_qualtrics.store.Store`, is registered on a
Flask app by :func:`init_app` (flaskr's pattern) and fetched with :func:`current_state`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Flask, current_app

from contracts import facts

from .admin_schema import admin_schema
from .auth import Lockout, UserRegistry
from .config import Settings, settings_of
from .faults import FaultPlan
from .fidelity import Record
from .idempotency import IdempotencyKeys
from .limits import DailyCounter, LeakyBucket
from .ops import Batch, DeleteWorkflow, Op, SaveUser, SaveWorkflow, Wipe
from .store import Store, open_store
from .workflows import User, ValidationError, Workflow, parse_user, parse_workflow, token_digest

__all__ = ["DELETED_WORKFLOW", "MockState", "current_state", "init_app"]

#: How Qualtrics names a deleted workflow in run history (a shared fact, from ``contracts``).
DELETED_WORKFLOW = facts.DELETED_WORKFLOW


class MockState:
    """Users, workflows and the per-request counters of one mock."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.users = UserRegistry()
        self.faults = FaultPlan()
        self.lockout = Lockout(
            settings.lockout_failures, settings.lockout_window, settings.lockout_seconds
        )
        self.rate = LeakyBucket(settings.rate_burst, settings.rate_limit / settings.rate_window)
        self.keys: IdempotencyKeys | None = None
        #: A fidelity record the trigger follows (set by ``create_app``), or ``None``.
        self.fidelity: Record | None = None
        if settings.extension_idempotency_keys:
            self.keys = IdempotencyKeys(settings.idempotency_ttl)
        self._lock = threading.Lock()
        self._workflows: dict[str, Workflow] = {}
        self._by_token: dict[str, str] = {}
        self._deleted: dict[str, str] = {}  # id -> name, of deleted workflows (runs kept)
        self.schema = admin_schema(settings)  # the config file's tables are checked like bodies
        self._load()
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.daily = DailyCounter(settings.daily_run_limit, store.runs_since(midnight.timestamp()))

    def _load(self) -> None:
        for username, digest in self.store.load_users():
            self.users.put(User(username, digest))
        for body in self.store.load_workflows():
            self._remember(Workflow.from_record(body))
        self._deleted = self.store.load_deleted_workflows()
        if self.keys is not None:
            now = time.time()
            for wf, key, request_id, ts in self.store.accepted_keys_since(now - self.keys.ttl):
                self.keys.claim(wf, key, request_id, ts)

    # -- users -----------------------------------------------------------------------------

    def put_user(self, data: Any) -> str:
        """Create or replace a user from a body valid against ``createUser``'s schema."""
        username, token = parse_user(data)
        user = User(username, token_digest(token))
        self.store.run(SaveUser(user.username, user.token_sha256))
        self.users.put(user)
        return username

    # -- workflows -------------------------------------------------------------------------

    def _check_token(self, workflow: Workflow) -> None:
        with self._lock:
            other = self._by_token.get(workflow.url_token_id)
        if other is not None and other != workflow.id:
            raise ValidationError(f"url_token_id: already used by workflow {other!r}")

    def _remember(self, workflow: Workflow) -> None:
        with self._lock:
            other = self._by_token.get(workflow.url_token_id)
            if other is not None and other != workflow.id:
                raise ValidationError(f"url_token_id: already used by workflow {other!r}")
            old = self._workflows.get(workflow.id)
            if old is not None:
                self._by_token.pop(old.url_token_id, None)
            self._workflows[workflow.id] = workflow
            self._by_token[workflow.url_token_id] = workflow.id
            self._deleted.pop(workflow.id, None)

    def _save(self, workflow: Workflow) -> Workflow:
        self._check_token(workflow)
        self.store.run(_save_op(workflow))
        self._remember(workflow)
        return workflow

    def put_workflow(self, data: Any) -> Workflow:
        """Create a workflow, or replace the one with the same ``id`` (an upsert)."""
        return self._save(parse_workflow(data))

    def patch_workflow(self, workflow_id: str, data: Any) -> Workflow | None:
        existing = self.workflow(workflow_id)
        if existing is None:
            return None
        return self._save(parse_workflow(data, existing=existing))

    def delete_workflow(self, workflow_id: str) -> bool:
        """Forget the workflow; its runs stay and list under :data:`DELETED_WORKFLOW`."""
        workflow = self.workflow(workflow_id)
        if workflow is None:
            return False
        self.store.run(DeleteWorkflow(workflow_id, workflow.name))
        with self._lock:
            if self._workflows.pop(workflow_id, None) is not None:
                self._by_token.pop(workflow.url_token_id, None)
            self._deleted[workflow_id] = workflow.name
        return True

    def is_deleted(self, workflow_id: str) -> bool:
        """Whether ``workflow_id`` named a workflow that was deleted (its runs are kept)."""
        with self._lock:
            return workflow_id in self._deleted

    def workflow_name(self, workflow_id: str) -> str:
        """The workflow's name, or "Deleted Workflow" as Qualtrics shows a deleted one."""
        workflow = self.workflow(workflow_id)
        return workflow.name if workflow is not None else DELETED_WORKFLOW

    def workflow(self, workflow_id: str) -> Workflow | None:
        with self._lock:
            return self._workflows.get(workflow_id)

    def workflows(self) -> list[Workflow]:
        with self._lock:
            return sorted(self._workflows.values(), key=lambda w: (w.name, w.id))

    def resolve_trigger(self, token: str | None) -> Workflow | None:
        """The workflow a trigger URL names: by ``urlTokenId`` (or, older shape, its id)."""
        if not token:
            return None
        with self._lock:
            workflow_id = self._by_token.get(token.lower(), token)
            return self._workflows.get(workflow_id)

    # -- bulk ------------------------------------------------------------------------------

    def upsert(self, users: Iterable[Any], workflows: Iterable[Any]) -> None:
        """Apply a config file's users and workflows (workflows upserted by id, runs kept)."""
        # Validate everything, commit it as one op, then remember it: one commit for the lot
        # (a commit per item made 10,000 workflows take 26 s), and nothing half-applied.
        parsed_users: list[User] = []
        for index, data in enumerate(users):
            try:
                self.schema.body("createUser", data)
                username, token = parse_user(data)
            except ValidationError as exc:
                raise ValidationError(f"users[{index}].{exc}") from None
            parsed_users.append(User(username, token_digest(token)))
        parsed: list[Workflow] = []
        with self._lock:
            tokens = dict(self._by_token)
        for index, data in enumerate(workflows):
            try:
                self.schema.body("createWorkflow", data)
                workflow = parse_workflow(data)
                other = tokens.setdefault(workflow.url_token_id, workflow.id)
                if other != workflow.id:
                    raise ValidationError(f"url_token_id: already used by workflow {other!r}")
            except ValidationError as exc:
                raise ValidationError(f"workflows[{index}].{exc}") from None
            parsed.append(workflow)
        ops: list[Op] = [SaveUser(u.username, u.token_sha256) for u in parsed_users]
        ops += [_save_op(w) for w in parsed]
        self.store.run(Batch(tuple(ops)))
        for user in parsed_users:
            self.users.put(user)
        for workflow in parsed:
            self._remember(workflow)

    def reset(self, *, everything: bool = False) -> None:
        """Forget history, journal, faults, keys and counters (and users/workflows if asked)."""
        self.faults.clear()
        if self.keys is not None:
            self.keys.clear()
        self.rate.clear()
        self.lockout.clear()
        self.daily.clear()

        self.store.run(Wipe(everything))
        with self._lock:
            self._deleted.clear()
            if everything:
                self._workflows.clear()
                self._by_token.clear()
        if everything:
            self.users.clear()


def _save_op(workflow: Workflow) -> SaveWorkflow:
    return SaveWorkflow(workflow.id, orjson.dumps(workflow.as_dict()).decode())


def init_app(app: Flask) -> MockState:
    """Open the store ``app``'s settings name, load its state, and register both on ``app``."""
    store = open_store(settings_of(app))
    try:
        state = MockState(settings_of(app), store)
    except BaseException:
        store.close()
        raise
    app.extensions["mock_qualtrics"] = state
    return state


def current_state(app: Flask | None = None) -> MockState:
    """The state (and, as ``.store``, the store) of ``app``, or of the app handling a request."""
    state: MockState = (app or current_app).extensions["mock_qualtrics"]
    return state
