"""The mock's in-memory state around the store: users, workflows, keys, counters, faults.

Everything a trigger request checks lives in memory (dictionaries behind locks) so that the hot
path never waits for SQLite. Every change that must survive a restart is an op for the store's
writer carrying its ``remember``: the writer applies that to memory right after the commit, in
commit order, so after any interleaving of admin calls memory holds what a restart loads. The
database decides conflicts (a UNIQUE ``url_token_id``; a PATCH or DELETE of a workflow that a
committed DELETE removed), and its answer becomes the 400 or 404. One
:class:`MockState`, holding the app's one :class:`~mock_qualtrics.store.Store`, is registered on a
Flask app by :func:`init_app` (flaskr's pattern) and fetched with :func:`current_state`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from functools import partial
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
from .ops import Batch, DeleteWorkflow, Missing, Op, Remember, SaveUser, SaveWorkflow, Wipe
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
        #: The config :meth:`restore` last applied, and its checked users and workflows.
        self._restoring: tuple[str, tuple[list[User], list[Workflow]]] | None = None
        #: Users and workflows remembered or forgotten so far, and that count after the last
        #: restore: equal means a restore need not delete and save them again.
        self._config_changes = 0
        self._restored = -1
        self._load()
        today = int(time.time() // 86_400)
        self.daily = DailyCounter(settings.daily_run_limit, store.daily_runs(today))

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
        self.store.run(SaveUser(user.username, user.token_sha256, partial(self._put_user, user)))
        return username

    def _put_user(self, user: User) -> None:
        """Memory of a committed user (the writer calls this, in commit order)."""
        self.users.put(user)
        self._config_changes += 1

    # -- workflows -------------------------------------------------------------------------

    def _remember(self, workflow: Workflow) -> None:
        """Memory of a committed save (the writer calls this, in commit order)."""
        self._config_changes += 1
        with self._lock:
            old = self._workflows.get(workflow.id)
            if old is not None:
                self._by_token.pop(old.url_token_id, None)
            self._workflows[workflow.id] = workflow
            self._by_token[workflow.url_token_id] = workflow.id
            self._deleted.pop(workflow.id, None)

    def _forget(self, workflow_id: str) -> None:
        """Memory of a committed delete (the writer calls this, in commit order)."""
        self._config_changes += 1
        with self._lock:
            workflow = self._workflows.pop(workflow_id, None)
            if workflow is not None:
                self._by_token.pop(workflow.url_token_id, None)
            self._deleted[workflow_id] = workflow.name if workflow else DELETED_WORKFLOW

    def _save(self, workflow: Workflow, *, must_exist: bool = False) -> Workflow | None:
        try:
            self.store.run(_save_op(workflow, must_exist, partial(self._remember, workflow)))
        except Missing:
            return None
        return workflow

    def put_workflow(self, data: Any) -> Workflow:
        """Create a workflow, or replace the one with the same ``id`` (an upsert)."""
        workflow = parse_workflow(data)
        self._save(workflow)
        return workflow

    def patch_workflow(self, workflow_id: str, data: Any) -> Workflow | None:
        """The workflow with ``data`` applied; None if it does not exist (or a DELETE that
        committed first removed it: a PATCH never brings a workflow back)."""
        existing = self.workflow(workflow_id)
        if existing is None:
            return None
        return self._save(parse_workflow(data, existing=existing), must_exist=True)

    def delete_workflow(self, workflow_id: str) -> bool:
        """Forget the workflow; its runs stay and list under :data:`DELETED_WORKFLOW`."""
        try:
            self.store.run(DeleteWorkflow(workflow_id, partial(self._forget, workflow_id)))
        except Missing:
            return False
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
        with self._lock:
            tokens = dict(self._by_token)
        ops = self._config_ops(users, workflows, tokens)
        if ops:
            self.store.run(Batch(tuple(ops)))

    def restore(self, users: Iterable[Any], workflows: Iterable[Any]) -> None:
        """Forget everything, then apply ``users`` and ``workflows``: the state a new mock of
        this config starts in, in one commit (the pytest plugin's mock between two tests).
        When no user or workflow changed since the last restore of this config, they are kept
        rather than deleted and saved again (a quarter of the commit's cost)."""
        # Checked first, so a bad config wipes nothing; checked once per config, because the
        # plugin restores the same one before every test and the check cost more than the commit.
        users, workflows = list(users), list(workflows)
        config = json.dumps([users, workflows], sort_keys=True, default=repr)  # a copy, by value
        if self._restoring is None or self._restoring[0] != config:
            self._restoring = (config, self._parse_config(users, workflows, {}))
            self._restored = -1
        if self._restored == self._config_changes:  # no user or workflow changed since: keep them
            op: Op = Wipe(False, partial(self._wiped, False))
        else:
            wipe = Wipe(True, partial(self._wiped, True))
            op = Batch((wipe, *self._save_ops(*self._restoring[1])))
        self._forget_limits()
        self.store.run(op)
        self._restored = self._config_changes  # read after the commit: its own changes count

    def _config_ops(
        self, users: Iterable[Any], workflows: Iterable[Any], tokens: dict[str, str]
    ) -> list[Op]:
        """The ops saving a config's ``users`` and ``workflows``, each checked against the
        admin API's document; ``tokens`` (urlTokenId -> workflow id) are the ones in use."""
        return self._save_ops(*self._parse_config(users, workflows, tokens))

    def _parse_config(
        self, users: Iterable[Any], workflows: Iterable[Any], tokens: dict[str, str]
    ) -> tuple[list[User], list[Workflow]]:
        """A config's ``users`` and ``workflows``, each checked against the admin API's
        document; ``tokens`` (urlTokenId -> workflow id) are the ones in use."""
        parsed_users: list[User] = []
        for index, data in enumerate(users):
            try:
                self.schema.body("createUser", data)
                username, token = parse_user(data)
            except ValidationError as exc:
                raise ValidationError(f"users[{index}].{exc}") from None
            parsed_users.append(User(username, token_digest(token)))
        parsed: list[Workflow] = []
        stored = set(tokens.values())
        for index, data in enumerate(workflows):
            try:
                self.schema.body("createWorkflow", data)
                workflow = parse_workflow(data)
                other = tokens.setdefault(workflow.url_token_id, workflow.id)
                if other != workflow.id:
                    where = " (stored in the mock's database)" if other in stored else ""
                    raise ValidationError(
                        f"url_token_id: already used by workflow {other!r}{where}"
                    )
            except ValidationError as exc:
                raise ValidationError(f"workflows[{index}].{exc}") from None
            parsed.append(workflow)
        return parsed_users, parsed

    def _save_ops(self, users: Iterable[User], workflows: Iterable[Workflow]) -> list[Op]:
        ops: list[Op] = [
            SaveUser(u.username, u.token_sha256, partial(self._put_user, u)) for u in users
        ]
        ops += [_save_op(w, False, partial(self._remember, w)) for w in workflows]
        return ops

    def reset(self, *, everything: bool = False) -> None:
        """Forget history, journal, faults, keys and counters (and users/workflows if asked)."""
        self._forget_limits()
        self.store.run(Wipe(everything, partial(self._wiped, everything)))

    def _forget_limits(self) -> None:
        """Forget what lives in memory only: faults, Idempotency-Keys, buckets, lockouts."""
        self.faults.clear()
        if self.keys is not None:
            self.keys.clear()
        self.rate.clear()
        self.lockout.clear()

    def _wiped(self, everything: bool) -> None:
        """Memory of a committed wipe (the writer calls this, in commit order)."""
        self.daily.clear()
        with self._lock:
            self._deleted.clear()
            if everything:
                self._workflows.clear()
                self._by_token.clear()
        if everything:
            self.users.clear()
            self._config_changes += 1


def _save_op(workflow: Workflow, must_exist: bool, remember: Remember) -> SaveWorkflow:
    body = orjson.dumps(workflow.as_dict()).decode()
    return SaveWorkflow(workflow.id, workflow.url_token_id, body, must_exist, remember)


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
