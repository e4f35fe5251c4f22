"""``--mock URL`` may name any server: whatever it answers, ``qharness runs`` and ``certify``
say so in one line (exit 2), never "internal error".

The server is a real WSGI server on 127.0.0.1 answering 200 with fixed bodies per path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson
import pytest
from support.cli import qharness_text
from werkzeug.serving import make_server

WORKFLOWS = {"workflows": [{"id": "WF", "name": "CSAT"}]}
RUN = {
    "id": "r1",
    "workflow_id": "WF",
    "requestId": "0b6f7c2e-3d1a-4e5b-9c8d-7a6b5c4d3e2f",
    "status": "Succeeded",
    "received_at": "2024-01-31T12:00:00.123456Z",
    "started_at": "2024-01-31T12:00:00.123456Z",
    "finished_at": "2024-01-31T12:00:00.123456Z",
    "fields": {},
    "error": None,
    "payload": None,
    "duplicate_of": None,
}


class Fake:
    """Answers each path with the bytes set for it (``{}`` for the rest)."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _app(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        body = self.bodies.get(environ["PATH_INFO"], b"{}")
        start("200 OK", [("Content-Type", "application/json")])
        return [body]

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join()


@pytest.fixture
def fake() -> Iterator[Fake]:
    server = Fake()
    yield server
    server.close()


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


@pytest.mark.parametrize(
    ("workflows", "runs", "said"),
    [
        (b"[]", None, "lacks 'workflows' (list)"),
        (_json({"workflows": 5}), None, "lacks 'workflows' (list)"),
        (_json({"workflows": [1]}), None, "lacks 'id' (str), 'name' (str)"),
        (_json({"workflows": [{"id": 1, "name": "x"}]}), None, "lacks 'id' (str)"),
        (b"[" * 100_000 + b"]" * 100_000, None, "is not JSON"),
        (b"<html>hello</html>", None, "is not JSON"),
        (_json(WORKFLOWS), _json({"runs": "x"}), "lacks 'runs' (list)"),
        (_json(WORKFLOWS), _json({"runs": [{"id": "r1"}]}), "breaks the run-record contract"),
        (
            _json(WORKFLOWS),
            _json({"runs": [{**RUN, "fields": []}]}),
            "breaks the run-record contract at ['fields']",
        ),
    ],
    ids=[
        "a-list",
        "workflows-not-a-list",
        "workflow-not-an-object",
        "workflow-id-not-a-string",
        "deep",
        "html",
        "runs-not-a-list",
        "run-missing-keys",
        "run-fields-a-list",
    ],
)
def test_runs_against_a_server_that_is_not_a_mock(
    fake: Fake, workflows: bytes, runs: bytes | None, said: str
) -> None:
    """One line, exit 2, naming the URL and what was wrong (it used to be a KeyError,
    TypeError or RecursionError reported as an internal error)."""
    fake.bodies["/__admin/workflows"] = workflows
    if runs is not None:
        fake.bodies["/__admin/runs"] = runs
    code, _, err = qharness_text("runs", "--mock", fake.url)
    assert code == 2, err
    assert err.startswith(f"error: {fake.url} does not look like a Qualtrics mock"), err
    assert said in err
    assert len(err.strip().splitlines()) == 1
    assert "internal error" not in err


def test_a_server_that_answers_like_a_mock_is_listed(fake: Fake) -> None:
    """The shapes checked are the mock's own: a well-formed answer lists its run (exit 0)."""
    fake.bodies["/__admin/workflows"] = _json(WORKFLOWS)
    fake.bodies["/__admin/runs"] = _json({"runs": [RUN]})
    code, out, err = qharness_text("runs", "--mock", fake.url)
    assert code == 0, err
    assert "CSAT" in out
    assert "r1" in out


def test_certify_against_a_server_that_is_not_a_mock(fake: Fake) -> None:
    """``certify --mock`` checks the mock before anything runs: exit 2, one line."""
    fake.bodies["/__admin/workflows"] = _json({"workflows": [{"id": "WF"}]})
    code, _, err = qharness_text("certify", "--mock", fake.url, "--examples", "5")
    assert code == 2, err
    assert "does not look like a Qualtrics mock" in err
    assert "internal error" not in err
