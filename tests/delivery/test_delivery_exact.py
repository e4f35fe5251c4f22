"""Hard numbers survive render -> send -> mock -> field extraction, byte for byte."""

from __future__ import annotations

from pathlib import Path

import httpx
from support.activations import activation_with_url
from support.cli import qharness
from support.destination import TOKEN, USER
from support.profiles import AUDIENCE

from connector.exactjson import ExactNumber, loads
from connector.plugin import MockQualtrics

NUMBERS = ("1" * 1000, "1e400", "123456789012345678901234567890", "1.50", "-0")


def line(email: str, number: str) -> bytes:
    """A profile line whose mapped firstName is the raw JSON number ``number``."""
    return (
        f'{{"identityMap":{{"Email":[{{"id":"{email}"}}]}},"person":{{"name":{{"firstName":'
        f'{number}}}}},"segmentMembership":{{"ups":{{"{AUDIENCE}":{{"lastQualificationTime":'
        f'"2024-05-01T10:00:00Z","status":"realized"}}}}}}}}\n'
    ).encode()


def test_hard_numbers_arrive_byte_exact_in_the_run(
    mock_qualtrics: MockQualtrics, tmp_path: Path
) -> None:
    """A 1,000-digit integer, 1e400, a 30-digit integer, 1.50 and -0: payload and field exact."""
    mock_qualtrics.add_user(USER, TOKEN)
    fields = [{"name": "firstName", "jsonpath": "$.person.name.firstName", "required": True}]
    flow = mock_qualtrics.create_workflow("exact", owner=USER, fields=fields)
    activation = activation_with_url(tmp_path, flow["trigger_url"])
    data = b"".join(line(f"n{i}@example.com", n) for i, n in enumerate(NUMBERS))
    rendered = qharness("render", str(activation), "-", stdin=data)
    assert rendered.returncode == 0, rendered.stderr.decode()
    for number in NUMBERS:
        assert b'"firstName":' + number.encode() + b"}" in rendered.stdout
    sent = qharness(
        "send",
        str(activation),
        "-",
        "--state",
        str(tmp_path / "s"),
        "--allow-http-loopback",
        stdin=data,
        env={"QUALTRICS_API_TOKEN": TOKEN},
    )
    assert sent.returncode == 0, sent.stderr.decode()
    mock_qualtrics.runs(flow["id"], wait_for=len(NUMBERS), timeout=20)
    # Read the admin API's bytes with the exact parser: a stdlib parse would float them again.
    answer = httpx.get(f"{mock_qualtrics.url}/__admin/workflows/{flow['id']}/runs")
    runs = loads(answer.content)["runs"]
    extracted = {run["payload"]["identityMap"]["Email"][0]["id"]: run for run in runs}
    for index, number in enumerate(NUMBERS):
        run = extracted[f"n{index}@example.com"]
        assert run["status"] == "Succeeded"
        expected = loads(number.encode())
        for value in (run["fields"]["firstName"], run["payload"]["person"]["name"]["firstName"]):
            if isinstance(expected, ExactNumber):
                assert value == expected, number[:40]
            else:
                assert (type(value), value) == (type(expected), expected), number[:40]


def test_test_destination_shows_the_body_with_its_numbers_as_sent(
    mock_qualtrics: MockQualtrics, tmp_path: Path
) -> None:
    """Adobe's test-destination shape prints the request body; 1.50 stays 1.50 there too."""
    mock_qualtrics.add_user(USER, TOKEN)
    flow = mock_qualtrics.create_workflow("exact", owner=USER)
    activation = activation_with_url(tmp_path, flow["trigger_url"])
    profiles = tmp_path / "p.jsonl"
    profiles.write_bytes(line("dave@example.com", "1.50"))
    done = qharness(
        "test-destination",
        str(activation),
        str(profiles),
        "--allow-http-loopback",
        env={"QUALTRICS_API_TOKEN": TOKEN},
    )
    assert done.returncode == 0, done.stderr.decode()
    assert b'"firstName": 1.50' in done.stdout
