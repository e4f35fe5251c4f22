"""After any interleaving of admin calls, what the mock lists is what a restart loads.

Concurrent admin calls over real HTTP against a live mock on a real SQLite file, then a second
mock on the same file: its listing must equal the first one's (memory follows disk), and the
database's own constraints must have said "already used", so the file always opens again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from pathlib import Path
from threading import Barrier
from typing import Any

import httpx
import pytest
from support.cli import qharness_text

from mock_qualtrics import LiveMock

TOKEN_ID = "0b5a7a8e-0000-4000-8000-00000000abcd"
PAYLOAD = {"identityMap": {"Email": [{"id": "a@example.com"}]}}


@contextmanager
def _mock(db: Path, **config: Any) -> Iterator[httpx.Client]:
    with (
        LiveMock({"DATABASE": str(db), "RATE_BURST": 100_000, **config}) as live,
        httpx.Client(base_url=f"{live.url}/__admin", timeout=30) as admin,
    ):
        yield admin
        assert live.errors == []


def _listing(admin: httpx.Client) -> list[dict[str, Any]]:
    """The workflows as listed, without ``trigger_url`` (it names this process's port)."""
    answer = admin.get("/workflows")
    assert answer.status_code == 200
    return [{k: v for k, v in w.items() if k != "trigger_url"} for w in answer.json()["workflows"]]


def _together(calls: list[Callable[[], int]]) -> list[int]:
    """Run ``calls`` at once (a barrier lines them up); their status codes, in call order."""
    barrier = Barrier(len(calls))

    def go(call: Callable[[], int]) -> int:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(go, calls))


def _trigger(admin: httpx.Client) -> int:
    """One trigger as user ``u`` (token ``t``) on ``TOKEN_ID``; its status."""
    url = str(admin.base_url).removesuffix("/__admin/")
    return httpx.post(
        f"{url}/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}",
        json=PAYLOAD,
        auth=("u", "t"),
    ).status_code


def _restart_lists_the_same(db: Path, before: list[dict[str, Any]]) -> None:
    with _mock(db) as admin:
        assert _listing(admin) == before


def test_eight_parallel_creates_with_one_token_make_one_workflow(tmp_path: Path) -> None:
    """One 201, seven 400 "already used", exactly one row; the file opens again."""
    db = tmp_path / "mock.db"
    with _mock(db) as admin:
        body = {"name": "W", "owner": "o@example.com", "url_token_id": TOKEN_ID}
        statuses = _together(
            [lambda: admin.post("/workflows", json=body).status_code for _ in range(8)]
        )
        assert sorted(statuses) == [201] + [400] * 7
        before = _listing(admin)
        assert len(before) == 1
    with closing(sqlite3.connect(db)) as conn, conn:
        assert conn.execute("SELECT COUNT(*) FROM workflows").fetchone() == (1,)
    _restart_lists_the_same(db, before)


def test_a_taken_token_is_refused_with_its_holder(tmp_path: Path) -> None:
    """The 400 names the workflow that holds the token (the constraint's answer, in words)."""
    with _mock(tmp_path / "mock.db") as admin:
        first = {"id": "WF_a", "name": "A", "owner": "o@example.com", "url_token_id": TOKEN_ID}
        assert admin.post("/workflows", json=first).status_code == 201
        answer = admin.post("/workflows", json={**first, "id": "WF_b"})
        assert answer.status_code == 400
        assert "url_token_id: already used by workflow 'WF_a'" in answer.text


@pytest.mark.parametrize("round_", range(6))
def test_upsert_patch_and_delete_racing_on_one_id(tmp_path: Path, round_: int) -> None:
    """PUT-like upserts (new name and token each), PATCHes and DELETEs of one id at once."""
    db = tmp_path / "mock.db"
    with _mock(db) as admin:
        calls: list[Callable[[], int]] = []
        for i in range(4):
            body = {"id": "WF_x", "name": f"N{i}", "owner": "o@example.com"}
            calls.append(lambda body=body: admin.post("/workflows", json=body).status_code)
            calls.append(
                lambda i=i: admin.patch("/workflows/WF_x", json={"name": f"P{i}"}).status_code
            )
            calls.append(lambda: admin.delete("/workflows/WF_x").status_code)
        assert set(_together(calls)) <= {201, 200, 204, 404}
        before = _listing(admin)
        if before:  # the last trigger URL answered still works
            token = before[0]["urlTokenId"]
            assert admin.get("/workflows/WF_x").json()["urlTokenId"] == token
    _restart_lists_the_same(db, before)


@pytest.mark.parametrize("round_", range(3))
def test_parallel_resets_and_creates(tmp_path: Path, round_: int) -> None:
    """Full resets racing creates: whatever is listed afterwards is what the file holds."""
    db = tmp_path / "mock.db"
    with _mock(db) as admin:
        calls: list[Callable[[], int]] = []
        for i in range(6):
            body = {"id": f"WF_{i}", "name": f"W{i}", "owner": "o@example.com"}
            calls.append(lambda body=body: admin.post("/workflows", json=body).status_code)
            calls.append(lambda: admin.post("/reset", json={"everything": True}).status_code)
        assert set(_together(calls)) == {200, 201}
        before = _listing(admin)
        users = admin.get("/users").json()
    _restart_lists_the_same(db, before)
    with _mock(db) as admin:
        assert admin.get("/users").json() == users


def test_parallel_tokens_for_one_user_the_working_one_survives_a_restart(
    tmp_path: Path,
) -> None:
    """30 tokens for one user name at once: the one that works works after a restart too."""
    db = tmp_path / "mock.db"
    tokens = [f"token-{i:02d}" for i in range(30)]

    def working(admin: httpx.Client) -> list[str]:
        url = str(admin.base_url).removesuffix("/__admin/")
        trigger = f"{url}/inbound-event/v1/events/json/triggers?urlTokenId={TOKEN_ID}"
        return [
            t for t in tokens if httpx.post(trigger, json=PAYLOAD, auth=("u", t)).status_code == 202
        ]

    with _mock(db, LOCKOUT_FAILURES=1000) as admin:
        body = {"id": "WF_u", "name": "U", "owner": "u", "url_token_id": TOKEN_ID}
        assert admin.post("/workflows", json=body).status_code == 201
        statuses = _together(
            [
                lambda t=t: admin.post("/users", json={"username": "u", "api_token": t}).status_code
                for t in tokens
            ]
        )
        assert statuses == [201] * 30
        before = working(admin)
        assert len(before) == 1
    with _mock(db, LOCKOUT_FAILURES=1000) as admin:
        assert working(admin) == before


def test_the_daily_run_limit_survives_a_restart_past_trimmed_history(tmp_path: Path) -> None:
    """history_limit 2, daily_run_limit 3: three runs, a restart, and the fourth is refused
    (the count is kept, not re-derived from the two runs history still holds)."""
    db = tmp_path / "mock.db"
    config = {
        "HISTORY_LIMIT": 2,
        "DAILY_RUN_LIMIT": 3,
        "USERS": [{"username": "u", "api_token": "t"}],
        "WORKFLOWS": [{"id": "WF_d", "name": "D", "owner": "u", "url_token_id": TOKEN_ID}],
    }

    with _mock(db, **config) as admin:
        assert [_trigger(admin) for _ in range(3)] == [202] * 3
    with _mock(db, **config) as admin:
        assert _trigger(admin) == 429


def test_a_database_holding_duplicate_tokens_is_named_not_the_workflows_file(
    tmp_path: Path,
) -> None:
    """A file written by an older mock with two workflows on one token: ``mock serve`` says so
    in one line naming the database (not ``--workflows F``), exit 2."""
    db = tmp_path / "old.db"
    _old_database(db, "WF_a", "WF_b")
    workflows = tmp_path / "workflows.toml"
    workflows.write_text('[[workflows]]\nid = "WF_c"\nname = "C"\nowner = "o"\n')
    code, _, stderr = qharness_text(
        "mock", "serve", "--port", "0", "--db", str(db), "--workflows", str(workflows)
    )
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert str(db) in lines[0]
    assert "'WF_a', 'WF_b'" in lines[0]
    assert str(workflows) not in lines[0]


def _old_database(db: Path, *workflow_ids: str) -> None:
    """A file as an older mock wrote it: no ``url_token_id`` column, no UNIQUE index."""
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("CREATE TABLE workflows (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
        for wid in workflow_ids:
            body = (
                f'{{"id":"{wid}","name":"{wid}","owner":"o","urlTokenId":"{TOKEN_ID}",'
                '"enabled":true,"auth_required":true,"fields":[]}'
            )
            conn.execute("INSERT INTO workflows VALUES (?, ?)", (wid, body))
    conn.close()


def test_an_older_database_opens_and_gains_the_constraint(tmp_path: Path) -> None:
    """An older file opens with its workflow; from then on its token is the database's to
    guard: another workflow asking for it is refused."""
    db = tmp_path / "old.db"
    _old_database(db, "WF_a")
    with _mock(db) as admin:
        assert [w["id"] for w in _listing(admin)] == ["WF_a"]
        body = {"id": "WF_b", "name": "B", "owner": "o", "url_token_id": TOKEN_ID}
        assert admin.post("/workflows", json=body).status_code == 400


def test_an_older_database_seeds_the_daily_count_from_its_runs(tmp_path: Path) -> None:
    """A file from before the daily counter was kept: today's runs count towards the limit."""
    db = tmp_path / "mock.db"
    config = {
        "DAILY_RUN_LIMIT": 2,
        "USERS": [{"username": "u", "api_token": "t"}],
        "WORKFLOWS": [{"id": "WF_d", "name": "D", "owner": "u", "url_token_id": TOKEN_ID}],
    }
    with _mock(db, **config) as admin:
        assert [_trigger(admin) for _ in range(2)] == [202, 202]
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("DROP TABLE daily_runs")
    conn.close()
    with _mock(db, **config) as admin:
        assert _trigger(admin) == 429


def test_a_workflows_file_clashing_with_the_database_says_where_the_other_one_is(
    tmp_path: Path,
) -> None:
    """``--workflows F`` asking for a token a stored workflow holds: one line, exit 2, naming
    F's entry and saying that the holder is in the database."""
    db = tmp_path / "mock.db"
    _old_database(db, "WF_a")
    workflows = tmp_path / "workflows.toml"
    workflows.write_text(
        f'[[workflows]]\nid = "WF_c"\nname = "C"\nowner = "o"\nurl_token_id = "{TOKEN_ID}"\n'
    )
    code, _, stderr = qharness_text(
        "mock", "serve", "--port", "0", "--db", str(db), "--workflows", str(workflows)
    )
    assert code == 2
    assert stderr.strip().splitlines() == [
        f"error: {workflows}: workflows[0].url_token_id: already used by workflow 'WF_a'"
        " (stored in the mock's database)"
    ]
