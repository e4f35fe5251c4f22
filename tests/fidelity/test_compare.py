"""Comparing answers (properties), and the mock telling the probes' credential cases apart."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from connector.fidelity import Answer, Limits, differences, plan
from connector.fidelity.compare import read_answer
from mock_qualtrics.fidelity import auth_case

statuses = st.integers(100, 599)
codes = st.none() | st.text(min_size=1, max_size=20)
answers = st.builds(
    Answer,
    status=statuses,
    content_type=st.sampled_from([None, "application/json", "text/plain; charset=utf-8"]),
    headers=st.dictionaries(st.sampled_from(["Retry-After", "WWW-Authenticate"]), st.text()),
    shape=st.lists(st.text(min_size=1, max_size=10)).map(lambda x: tuple(sorted(set(x)))),
    error_code=codes,
    message=st.none() | st.text(),
    body=st.none() | st.text(),
)


@given(answers, st.none() | st.text(), st.none() | st.text())
def test_an_answer_matches_itself_whatever_its_message(
    answer: Answer, message: str | None, body: str | None
) -> None:
    """Messages and bodies are recorded, never compared."""
    assert differences(answer, replace(answer, message=message, body=body)) == []


@given(answers, statuses)
def test_a_status_difference_names_both_statuses(answer: Answer, other: int) -> None:
    """A different status is always reported, Qualtrics' first."""
    found = differences(answer, replace(answer, status=other))
    assert (f"status: Qualtrics {answer.status}, mock {other}" in found) is (other != answer.status)


@given(answers, st.sampled_from(["1", "120"]))
def test_retry_after_is_compared_by_presence(answer: Answer, value: str) -> None:
    """Retry-After's value depends on the moment: only whether it is there counts."""
    with_it = replace(answer, headers={**answer.headers, "Retry-After": value})
    other_value = replace(with_it, headers={**with_it.headers, "Retry-After": "9"})
    assert differences(with_it, other_value) == []
    without = replace(with_it, headers={**with_it.headers})
    del without.headers["Retry-After"]  # type: ignore[attr-defined]
    assert "Retry-After: Qualtrics sent, mock none" in differences(with_it, without)


@given(st.text(min_size=8, alphabet="abcdefghijklmnop0123456789"), st.text(max_size=30))
def test_secrets_never_kept(secret: str, around: str) -> None:
    """A destination echoing the token (body, header, JSON key or value) leaves no trace."""
    body = json.dumps({"meta": {"error": {"errorMessage": around + secret, secret: 1}}}).encode()
    headers = {"WWW-Authenticate": f"Basic realm={secret}", "Content-Type": "application/json"}
    kept = read_answer(401, headers, body, (secret,))
    assert secret not in json.dumps(kept.to_json())


def test_the_mock_tells_each_credential_probe_apart() -> None:
    """Each credentials-failing probe's headers fall in the mock's case of the same id."""
    for probe in plan(Limits(), credentials=True, allow_runs=False):
        if not probe.id.startswith("status.unauthorized."):
            continue
        value = probe.authorization("someone@example.com")
        headers = {} if value is None else {"Authorization": value}
        assert auth_case(headers) == probe.id
    assert auth_case({"X-API-TOKEN": "nope"}) == "status.unauthorized.wrong_token"
