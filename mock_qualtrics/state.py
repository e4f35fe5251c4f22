"""The mock's in-memory state around the store: users, workflows, keys, counters, faults.

Everything a trigger request checks lives in memory (dictionaries behind locks) so that the hot
path never waits for SQLite; every change that must survive a restart is also written to the store.
One :class:`MockState` belongs to one Flask app (``app.extensions["mock_qualtrics"]``).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Flask, current_app

from .auth import Lockout, UserRegistry
from .faults import FaultPlan
from .limits import DailyCounter, LeakyBucket
from .store import Store
from .workflows import User, ValidationError, Workflow, parse_user, parse_workflow, token_digest

__all__ = ["MockState", "current_state"]


class IdempotencyKeys:
    """``(workflow_id, key) -> first requestId`` for ``ttl`` seconds."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], tuple[str, float]] = {}
        self._since_sweep = 0

    def lookup(self, workflow_id: str, key: str, now: float) -> str | None:
        with self._lock:
            hit = self._keys.get((workflow_id, key))
            if hit is None:
                return None
            if hit[1] <= now:
                del self._keys[(workflow_id, key)]
                return None
            return hit[0]

    def claim(self, workflow_id: str, key: str, request_id: str, now: float) -> str | None:
        """Register ``key``; returns the earlier requestId if someone registered it first."""
        with self._lock:
            hit = self._keys.get((workflow_id, key))
            if hit is not None and hit[1] > now:
                return hit[0]
            self._keys[(workflow_id, key)] = (request_id, now + self.ttl)
            self._since_sweep += 1
            if self._since_sweep > 10_000:
                self._since_sweep = 0
                for k in [k for k, (_, exp) in self._keys.items() if exp <= now]:
                    del self._keys[k]
            return None

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


class MockState:
    """Users, workflows and the per-request counters of one mock."""

    def __init__(self, config: Mapping[str, Any], store: Store) -> None:
        self.config = config
        self.store = store
        self.users = UserRegistry()
        self.faults = FaultPlan()
        self.lockout = Lockout(
            int(config["LOCKOUT_FAILURES"]),
            float(config["LOCKOUT_WINDOW"]),
            float(config["LOCKOUT_SECONDS"]),
        )
        self.rate = LeakyBucket(
            int(config["RATE_BURST"]), int(config["RATE_LIMIT"]) / float(config["RATE_WINDOW"])
        )
        self.keys = IdempotencyKeys(float(config["IDEMPOTENCY_TTL"]))
        self._lock = threading.Lock()
        self._workflows: dict[str, Workflow] = {}
        self._by_token: dict[str, str] = {}
        self.max_fields = int(config["MAX_FIELDS"])
        self._load()
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        self.daily = DailyCounter(
            int(config["DAILY_RUN_LIMIT"]), store.runs_since(midnight.timestamp())
        )

    def _load(self) -> None:
        for username, digest in self.store.load_users():
            self.users.put(User(username, digest))
        for body in self.store.load_workflows():
            self._remember(parse_workflow(body, max_fields=10**6))
        now = time.time()
        for wf, key, request_id, ts in self.store.accepted_keys_since(now - self.keys.ttl):
            self.keys.claim(wf, key, request_id, ts)

    # -- users -----------------------------------------------------------------------------

    def put_user(self, data: Any) -> str:
        username, token = parse_user(data)
        user = User(username, token_digest(token))
        self.users.put(user)

        def save(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR REPLACE INTO users (username, token_sha256) VALUES (?, ?)",
                (user.username, user.token_sha256),
            )

        self.store.call(save)
        return username

    # -- workflows -------------------------------------------------------------------------

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

    def _persist(self, workflow: Workflow) -> None:
        body = orjson.dumps(workflow.as_dict()).decode()

        def save(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR REPLACE INTO workflows (id, body) VALUES (?, ?)", (workflow.id, body)
            )

        self.store.call(save)

    def put_workflow(self, data: Any) -> Workflow:
        """Create a workflow, or replace the one with the same ``id`` (an upsert)."""
        workflow = parse_workflow(data, max_fields=self.max_fields)
        self._remember(workflow)
        self._persist(workflow)
        return workflow

    def patch_workflow(self, workflow_id: str, data: Any) -> Workflow | None:
        existing = self.workflow(workflow_id)
        if existing is None:
            return None
        workflow = parse_workflow(data, max_fields=self.max_fields, existing=existing)
        self._remember(workflow)
        self._persist(workflow)
        return workflow

    def delete_workflow(self, workflow_id: str) -> bool:
        with self._lock:
            workflow = self._workflows.pop(workflow_id, None)
            if workflow is None:
                return False
            self._by_token.pop(workflow.url_token_id, None)

        def forget(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM workflows WHERE id=?", (workflow_id,))
            db.execute("DELETE FROM runs WHERE workflow_id=?", (workflow_id,))

        self.store.call(forget)
        return True

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
        for index, user in enumerate(users):
            try:
                self.put_user(user)
            except ValidationError as exc:
                raise ValidationError(f"users[{index}].{exc}") from None
        for index, workflow in enumerate(workflows):
            try:
                self.put_workflow(workflow)
            except ValidationError as exc:
                raise ValidationError(f"workflows[{index}].{exc}") from None

    def reset(self, *, everything: bool = False) -> None:
        """Forget history, journal, faults, keys and counters (and users/workflows if asked)."""
        self.faults.clear()
        self.keys.clear()
        self.rate.clear()
        self.lockout.clear()
        self.daily.clear()

        def wipe(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM runs")
            db.execute("DELETE FROM events")
            if everything:
                db.execute("DELETE FROM workflows")
                db.execute("DELETE FROM users")

        wipe.clears_timers = True  # type: ignore[attr-defined]
        if everything:
            with self._lock:
                self._workflows.clear()
                self._by_token.clear()
            self.users.clear()
        self.store.call(wipe)


def current_state(app: Flask | None = None) -> MockState:
    state: MockState = (app or current_app).extensions["mock_qualtrics"]
    return state
