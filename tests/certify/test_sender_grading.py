"""Grading a sender's payloads: matching and comparing are blind to key order and spacing, and
name the one field that changed."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, note
from hypothesis import strategies as st

from connector import exactjson
from connector.certify.sender.feed import handles
from connector.certify.sender.grading import _leaves, differences
from connector.cli._common import load_or_bundled
from connector.strategies import payloads

ACTIVATION = load_or_bundled(None)


def reordered(value: Any) -> Any:
    """The same JSON value with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {k: reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reordered(v) for v in value]
    return value


@given(payloads(ACTIVATION))
def test_key_order_and_spacing_are_not_changes(payload: dict[str, Any]) -> None:
    """A payload re-serialized with other key order, spacing and escaping matches itself."""
    text = orjson.dumps(reordered(payload), option=orjson.OPT_INDENT_2, default=exactjson.fragment)
    received = exactjson.loads(text)
    assert differences(payload, received) == ([], [])
    assert handles(received) == handles(payload)


@given(payloads(ACTIVATION), st.data())
def test_one_changed_leaf_is_named(payload: dict[str, Any], data: st.DataObject) -> None:
    """Changing one value gives exactly one change, naming its path, old and new value."""
    paths = [path for path, value in _leaves(payload) if isinstance(value, str)]
    path = data.draw(st.sampled_from(paths))
    note(f"changed: {path}")
    received = exactjson.loads(exactjson.dumps(payload))
    node: Any = received
    keys = path.replace("[", ".[").split(".")
    for key in keys[:-1]:
        node = node[int(key[1:-1])] if key.startswith("[") else node[key]
    last = keys[-1]
    index: Any = int(last[1:-1]) if last.startswith("[") else last
    node[index] = node[index] + " "
    changes, extras = differences(payload, received)
    assert extras == []
    assert len(changes) == 1
    assert changes[0].startswith(f"`{path}` arrived as ")
    assert "(expected " in changes[0]


def test_recorder_reads_credentials_and_the_token_in_the_url() -> None:
    """Both Qualtrics schemes are recognised and checked; a token in the URL is seen, encoded too."""
    import base64
    import io

    from connector.certify.sender.recorder import TriggerRecorder

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        assert environ["wsgi.input"].read() == b"{}"
        start_response("202 Accepted", [("Content-Type", "application/json")])
        return [b"{}"]

    recorder = TriggerRecorder(app, username="u@example.com", token="s3cr+t")
    basic = base64.b64encode(b"u@example.com:s3cr+t").decode()
    cases = [
        ({"HTTP_X_API_TOKEN": "s3cr+t"}, "", ("X-API-TOKEN", True, False)),
        ({"HTTP_X_API_TOKEN": "nope"}, "", ("X-API-TOKEN", False, False)),
        ({"HTTP_AUTHORIZATION": f"Basic {basic}"}, "", ("Basic", True, False)),
        ({"HTTP_AUTHORIZATION": "Bearer s3cr+t"}, "", ("Bearer", False, False)),
        ({}, "&apiToken=s3cr%2Bt", ("none", False, True)),
    ]
    for headers, query, _ in cases:
        environ = {
            "PATH_INFO": "/inbound-event/v1/events/json/triggers",
            "QUERY_STRING": "urlTokenId=abc" + query,
            "CONTENT_LENGTH": "2",
            "wsgi.input": io.BytesIO(b"{}"),
            **headers,
        }
        recorder(environ, lambda status, headers, *args: None)
    seen = [(r.auth, r.credentials_ok, r.token_in_url) for r in recorder.requests]
    assert seen == [expected for _, _, expected in cases]
    assert [r.status for r in recorder.requests] == [202] * len(cases)
    assert "s3cr+t" not in repr(recorder)
