"""The sender checks' rules, graded from hand-built evidence (no sender, no mock, no sleeps).

Each test builds the requests the mock recorded and the runs it made, and asserts the verdict
and the exact evidence line a partner reads: which request, which event, which field, when.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest

from connector import exactjson
from connector.certify.checks import CheckResult
from connector.certify.sender.feed import Expected
from connector.certify.sender.grading import Evidence, clock, differences, grade
from connector.certify.sender.process import SenderRun
from connector.certify.sender.recorder import Received
from connector.render import Payload

AUDIENCE = "046456e3-18e1-48a6-9bda-d68547861283"
OTHER_AUDIENCE = "77777777-18e1-48a6-9bda-d68547861283"
T0 = 1_700_000_000.0  # 22:13:20 UTC


def document(email: str, *, audience: str = AUDIENCE, status: str = "realized") -> dict[str, Any]:
    return {
        "person": {"name": {"firstName": "Dave"}},
        "identityMap": {"Email": [{"id": email}]},
        "segmentMembership": {
            "ups": {audience: {"status": status, "lastQualificationTime": "2026-01-01T00:00:00Z"}}
        },
    }


def event(number: int, email: str, **kwargs: Any) -> Expected:
    doc = document(email, **kwargs)
    return Expected(number, {}, Payload(doc, orjson.dumps(doc), f"Email:{email}", ()))


def request(
    number: int,
    body: Any,
    *,
    at: float = 0.0,
    auth: str = "X-API-TOKEN",
    ok: bool = True,
    in_url: bool = False,
    status: int | None = 202,
    retry_after: str | None = None,
    answered: float | None = None,
    dropped: bool = False,
) -> Received:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return Received(
        number, T0 + at, raw, auth, ok, in_url, None, T0 + (at if answered is None else answered),
        status, retry_after, dropped,
    )  # fmt: skip


def run(doc: Any, status: str = "Succeeded", error: str | None = None) -> dict[str, Any]:
    return {"payload": doc, "status": status, "error": error}


def evidence(
    expected: list[Expected],
    requests: list[Received],
    runs: list[dict[str, Any]] | None = None,
    sender: SenderRun | None = None,
) -> Evidence:
    return Evidence(expected, requests, runs or [], sender or SenderRun(0, 1.0))


def check(ev: Evidence, name: str) -> CheckResult:
    return {result.name: result for result in grade(ev)}[name]


DAVE, ERIN = event(1, "dave@example.com"), event(2, "erin@example.com")
DAVE_LABEL = "dave@example.com / audience 046456e3…"
ERIN_LABEL = "erin@example.com / audience 046456e3…"


# --- matching ------------------------------------------------------------------------------


def test_the_checks_run_in_their_fixed_order() -> None:
    """exit, auth, contract, values, complete, duplicates, retry-after."""
    names = [r.name for r in grade(evidence([DAVE], [request(1, DAVE.document)]))]
    assert names == [
        "sender.exit", "sender.auth", "sender.contract-valid", "sender.values-unchanged",
        "sender.complete", "sender.no-duplicates", "sender.retry-after",
    ]  # fmt: skip


def test_an_identity_outweighs_any_number_of_shared_audience_changes() -> None:
    """A shared identity scores 10, a shared audience change 1: the identity decides."""
    both = [event(1, "a@example.com"), event(2, "b@example.com")]
    body = document("b@example.com")
    ev = evidence(both, [request(1, body)])
    assert ev.matched[1] is both[1]
    # Only the audience change is shared, with both: the lower-numbered event wins the tie.
    stranger = document("nobody@example.com")
    ev = evidence(both, [request(1, stranger)])
    assert ev.matched[1] is both[0]


def test_ten_audience_changes_do_not_beat_one_identity() -> None:
    """Weights are exactly 10 and 1: 9 shared changes lose to an identity, 10 tie (the lower
    event number wins), 11 win."""

    def with_audiences(email: str, count: int) -> dict[str, Any]:
        doc = document(email)
        doc["segmentMembership"]["ups"] = {
            f"{i:08d}-aud": {"status": "realized", "lastQualificationTime": "t"}
            for i in range(count)
        }
        return doc

    for count, winner in [(9, 2), (10, 1), (11, 1)]:
        a, b = with_audiences("a@example.com", count), document("b@example.com")
        expected = [
            Expected(1, {}, Payload(a, orjson.dumps(a), "Email:a@example.com", ())),
            Expected(2, {}, Payload(b, orjson.dumps(b), "Email:b@example.com", ())),
        ]
        received = with_audiences("b@example.com", count)
        ev = evidence(expected, [request(1, received)])
        assert ev.matched[1] is expected[winner - 1], count


def test_a_body_that_is_not_json_matches_nothing() -> None:
    """Its document is None, it matches no event, and its label says so."""
    ev = evidence([DAVE], [request(1, b"{not json")])
    assert ev.documents[1] is None
    assert ev.matched[1] is None
    assert ev.label(ev.requests[0]) == "no expected event"
    assert ev.requests_for(DAVE) == []


def test_runs_are_matched_to_events_and_strays_counted() -> None:
    """A run whose payload shares nothing with any event is a stray."""
    ev = evidence(
        [DAVE, ERIN],
        [],
        [run(ERIN.document), run(document("x@example.com", audience=OTHER_AUDIENCE)), run(None)],
    )
    assert ev.run_events == {2: [run(ERIN.document)]}
    assert ev.stray_runs == 2


def test_timeline_gives_every_request_relative_to_the_first() -> None:
    """Number, clock time, offset from the first request, event, size, hash prefix, answer."""
    first = request(1, DAVE.document, at=0.5)
    second = request(2, b"{}", at=2.25042, auth="none", status=401)
    ev = evidence([DAVE], [first, second])
    assert ev.timeline() == [
        {"request": 1, "at": "22:13:20.500", "offset_s": 0.0, "event": DAVE_LABEL,
         "bytes": len(first.body), "sha256": first.sha256[:16], "auth": "X-API-TOKEN",
         "status": 202, "outcome": "answered 202", "fault": ""},
        {"request": 2, "at": "22:13:22.250", "offset_s": 1.75, "event": "no expected event",
         "bytes": 2, "sha256": hashlib.sha256(b"{}").hexdigest()[:16], "auth": "none",
         "status": 401, "outcome": "answered 401", "fault": ""},
    ]  # fmt: skip
    assert evidence([DAVE], []).timeline() == []


def test_clock_is_utc_with_milliseconds() -> None:
    """``HH:MM:SS.mmm`` in UTC, truncated (not rounded) to the millisecond."""
    assert clock(0.0) == "00:00:00.000"
    assert clock(T0 + 3.1239) == "22:13:23.123"


# --- differences -----------------------------------------------------------------------------


def test_differences_name_missing_changed_and_extra_leaves() -> None:
    """Missing and changed leaves fail; extras fail only under identityMap or segmentMembership."""
    want = {"a": {"b": 1, "c": [1, "x"]}, "d": {}, "e": []}
    got = {"a": {"b": 2, "c": [1]}, "d": {}, "e": [], "z": 1, "y": {"q": None},
           "identityMap": {"ECID": [{"id": "e"}]}, "segmentMembership": {"x": True}}  # fmt: skip
    changes, extras = differences(want, got)
    assert changes[:2] == ["`a.b` arrived as 2 (expected 1)", "`a.c[1]` is missing (expected 'x')"]
    assert sorted(changes[2:]) == [
        "`identityMap.ECID[0].id` = 'e' is not in the expected payload",
        "`segmentMembership.x` = True is not in the expected payload",
    ]
    assert extras == [
        "`y.q` = None is not in the expected payload",
        "`z` = 1 is not in the expected payload",
    ]


@pytest.mark.parametrize(
    ("want", "got"),
    [(1, True), (0, False), ("1", 1), ({}, []), (None, {}), (True, 1)],
)
def test_a_value_of_another_type_is_a_change(want: Any, got: Any) -> None:
    """``1`` and ``true``, ``"1"`` and ``1``, ``{}`` and ``[]`` are different JSON values."""
    changes, extras = differences({"k": want}, {"k": got})
    shown = "True" if got is True else "False" if got is False else repr(got)
    assert changes == [f"`k` arrived as {shown} (expected {want!r})"]
    assert extras == []


@pytest.mark.parametrize(
    ("want", "got", "same", "byte_same"),
    [
        (b"1.0E10", b"10000000000.0", True, False),  # one value, two spellings
        (b"1.0E10", b"10000000000", True, False),
        (b"1", b"1.0", True, False),
        (b"9007199254740993", b"9007199254740992", False, False),  # a double's rounding
        (b"9007199254740993", b"9.007199254740992E15", False, False),
        (b"4.9E-324", b"5e-324", True, False),  # Java's and Python's spelling of one double
        (b"0.1", b"0.1", True, True),
        (b"1E-400", b"0", False, False),  # no double holds it: no latitude
        (b"0.0", b"1E-400", True, False),  # a double zero: any text that reads as that double
        (b"1e400", b"1E+400", True, False),
        (b"1.50", b"1.5", True, False),
        (b"-0.0", b"0", True, False),
        (b"12", b"13", False, False),
    ],
)
def test_numbers_are_compared_as_exact_decimals(
    want: bytes, got: bytes, same: bool, byte_same: bool
) -> None:
    """Exact decimals (a double the feed wrote also matches the same double); ``byte_exact``
    wants the same text as well."""
    sent, received = exactjson.loads(want), exactjson.loads(got)
    assert (differences({"k": sent}, {"k": received})[0] == []) is same
    assert (differences({"k": sent}, {"k": received}, byte_exact=True)[0] == []) is byte_same
    if not same:
        [change] = differences({"k": sent}, {"k": received})[0]
        assert change == f"`k` arrived as {got.decode()} (expected {want.decode()})"


def test_long_values_are_shortened_in_evidence() -> None:
    """A repr of up to 80 characters is shown whole; longer ones as 60 plus their length."""
    whole, cut = "a" * 78, "a" * 79  # reprs of 80 and 81 characters
    assert differences({"k": whole}, {})[0] == [f"`k` is missing (expected {whole!r})"]
    assert differences({"k": cut}, {})[0] == [
        f"`k` is missing (expected '{'a' * 59}... (81 characters))"
    ]


def test_long_numbers_are_shortened_in_evidence_by_their_text() -> None:
    """A number is shown as its JSON text: up to 80 digits and signs whole, longer ones as 60
    plus their length."""
    whole, cut = exactjson.loads(b"-" + b"9" * 79), exactjson.loads(b"-" + b"9" * 80)
    assert differences({"k": whole}, {})[0] == [f"`k` is missing (expected -{'9' * 79})"]
    assert differences({"k": cut}, {})[0] == [
        f"`k` is missing (expected -{'9' * 59}... (81 digits and signs))"
    ]


# --- sender.exit -----------------------------------------------------------------------------


def test_exit_passes_only_on_zero_without_timeout() -> None:
    """Exit 0 passes; a timeout fails even at exit 0; a failure quotes the last output line."""
    ok = check(evidence([DAVE], [], sender=SenderRun(0, 1.25, tail=["done"])), "sender.exit")
    assert (ok.passed, ok.evidence) == (True, "exited 0 after 1.2 s")
    late = SenderRun(0, 9.0, timed_out=True, tail=["x" * 300, "  "])
    failed = check(evidence([DAVE], [], sender=late), "sender.exit")
    assert not failed.passed
    assert failed.evidence.endswith("; last output: " + "x" * 200)
    assert failed.details == "output tail:\n" + "x" * 300 + "\n  "
    silent = check(evidence([DAVE], [], sender=SenderRun(3, 1.0)), "sender.exit")
    assert (silent.passed, silent.evidence, silent.details) == (
        False, "exited 3 after 1.0 s; no output", "it printed nothing",
    )  # fmt: skip


# --- sender.auth -----------------------------------------------------------------------------


def test_auth_without_requests_fails() -> None:
    """No request at all is a failure, not a vacuous pass."""
    result = check(evidence([DAVE], []), "sender.auth")
    assert (result.passed, result.evidence) == (False, "no request reached the trigger URL")


def test_auth_names_token_in_url_missing_and_wrong_credentials() -> None:
    """Each kind of problem, with the request numbers and the mock's answer."""
    requests = [
        request(1, DAVE.document, in_url=True),
        request(2, DAVE.document, auth="none", status=401),
        request(3, DAVE.document, auth="Bearer", status=401),
        request(4, DAVE.document, auth="Basic", ok=False, status=403),
        request(5, DAVE.document, auth="X-API-TOKEN"),
        request(6, DAVE.document, auth="X-API-TOKEN", ok=False, status=401),
    ]
    result = check(evidence([DAVE], requests), "sender.auth")
    assert not result.passed
    assert result.evidence == (
        "3 problems; first: 1 request(s) carried the API token in the URL (#1); "
        "send it only in X-API-TOKEN or Basic auth"
    )
    assert result.details == (
        "2 request(s) carried no X-API-TOKEN or Basic credentials (#2, #3; first: 'none'), "
        "answered 401\n"
        "2 request(s) carried credentials that are not QHARNESS_USERNAME and "
        "QHARNESS_API_TOKEN (#4, #6), answered 403"
    )


def test_auth_passes_with_matching_credentials_of_either_kind() -> None:
    """Basic and X-API-TOKEN both count, listed in sorted order."""
    requests = [request(1, DAVE.document, auth="X-API-TOKEN"), request(2, b"{}", auth="Basic")]
    result = check(evidence([DAVE], requests), "sender.auth")
    assert result.passed
    assert result.evidence == (
        "2 request(s), all with Basic or X-API-TOKEN credentials that match; "
        "the token never in the URL"
    )


def test_request_numbers_are_listed_up_to_eight() -> None:
    """Eight numbers are listed whole; a ninth becomes ``...``."""
    eight = [request(n, b"{}", in_url=True) for n in range(1, 9)]
    result = check(evidence([DAVE], eight), "sender.auth")
    assert "(#1, #2, #3, #4, #5, #6, #7, #8);" in result.evidence
    nine = [*eight, request(9, b"{}", in_url=True)]
    result = check(evidence([DAVE], nine), "sender.auth")
    assert "(#1, #2, #3, #4, #5, #6, #7, #8, ...);" in result.evidence


# --- sender.contract-valid -------------------------------------------------------------------


def test_contract_without_requests_fails() -> None:
    """Nothing arrived: nothing valid either."""
    result = check(evidence([DAVE], []), "sender.contract-valid")
    assert (result.passed, result.evidence) == (False, "no body arrived to check")


def test_contract_checks_each_distinct_body_once() -> None:
    """A resent body is checked once; a non-JSON body and an invalid one are named."""
    bad = {"identityMap": 3}
    requests = [
        request(1, DAVE.document),
        request(2, DAVE.document),
        request(3, b"x" * 70),
        request(4, bad),
        request(5, bad),
    ]
    result = check(evidence([DAVE], requests), "sender.contract-valid")
    assert not result.passed
    assert result.evidence == (
        f"3 problems; first: request #3 (no expected event): the body is not JSON ({b'x' * 60!r})"
    )
    assert result.details == (
        "request #4 (no expected event): $: missing required key: 'segmentMembership'\n"
        "request #4 (no expected event): $.identityMap: 3 is not of type 'object'"
    )


def test_contract_passes_naming_the_largest_body() -> None:
    """Distinct bodies counted, the contract's version and the largest size given."""
    long = event(2, "a.much.longer.address@example.com")
    small, large = DAVE.document, long.document
    requests = [request(1, small), request(2, large), request(3, small)]
    result = check(evidence([DAVE, long], requests), "sender.contract-valid")
    assert result.passed
    assert result.evidence == (
        "2 distinct bodies valid against qualtrics-event 2.0.0; largest "
        f"{len(orjson.dumps(large)):,} bytes (limit 102,400)"
    )


# --- sender.values-unchanged -----------------------------------------------------------------


def test_values_name_the_changed_field_once_per_event() -> None:
    """The same change carried by two requests is one problem naming both requests."""
    changed = document("dave@example.com")
    changed["person"]["name"]["firstName"] = "David"
    requests = [request(1, changed), request(2, changed), request(3, ERIN.document)]
    result = check(evidence([DAVE, ERIN], requests), "sender.values-unchanged")
    assert not result.passed
    assert result.evidence == (
        f"event for {DAVE_LABEL} (request #1, #2): `person.name.firstName` arrived as 'David' "
        "(expected 'Dave')"
    )


def test_values_fail_for_a_request_matching_no_event() -> None:
    """A JSON object that shares nothing with any expected event is a problem, not skipped."""
    stray = document("x@example.com", audience=OTHER_AUDIENCE)
    result = check(evidence([DAVE], [request(1, DAVE.document), request(2, stray)]),
                   "sender.values-unchanged")  # fmt: skip
    assert not result.passed
    assert result.evidence == (
        "request #2 matches no expected event (none of its identities or audience changes was "
        "fed to the sender)"
    )


def test_values_compare_numbers_as_values_unless_byte_exact_is_asked() -> None:
    """Evidence compares values by default: ``1.0E10`` arriving as ``10000000000.0`` passes;
    with ``byte_exact`` the re-spelling is a change."""
    sent = exactjson.loads(b'{"identityMap": {"Email": [{"id": "dave@example.com"}]}, '
                           b'"segmentMembership": {"ups": {"%s": {"status": "realized", '
                           b'"lastQualificationTime": "2026-01-01T00:00:00Z"}}}, "points": 1.0E10}'
                           % AUDIENCE.encode())  # fmt: skip
    expected = Expected(1, {}, Payload(sent, exactjson.dumps(sent), "Email:dave@example.com", ()))
    body = exactjson.dumps(sent).replace(b"1.0E10", b"10000000000.0")
    requests = [request(1, body)]
    assert check(evidence([expected], requests), "sender.values-unchanged").passed
    exact = Evidence([expected], requests, [], SenderRun(0, 1.0), byte_exact=True)
    result = check(exact, "sender.values-unchanged")
    assert not result.passed
    assert result.evidence == (
        "event for dave@example.com / audience 046456e3… (request #1): `points` arrived as "
        "10000000000.0 (expected 1.0E10)"
    )


def test_values_pass_noting_unmapped_extras() -> None:
    """Extra fields outside identityMap and segmentMembership are noted, once, not failed."""
    extra = {**DAVE.document, "source": "crm"}
    requests = [request(1, extra), request(2, extra), request(3, b"[1]"), request(4, ERIN.document)]
    result = check(evidence([DAVE, ERIN], requests), "sender.values-unchanged")
    assert result.passed
    assert result.evidence == (
        "2 event(s) arrived with every identity, attribute and audience change unchanged"
    )
    assert result.details == (
        "note: request #1: `source` = 'crm' is not in the expected payload\n"
        "note: request #2: `source` = 'crm' is not in the expected payload"
    )


def test_values_fail_when_nothing_arrived_to_compare() -> None:
    """Only non-object bodies: nothing compared is a failure."""
    result = check(evidence([DAVE], [request(1, b"[]")]), "sender.values-unchanged")
    assert (result.passed, result.evidence) == (False, "no expected event arrived to compare")


# --- sender.complete -------------------------------------------------------------------------


def test_complete_passes_when_every_event_has_a_succeeded_run() -> None:
    """A failed run beside a Succeeded one does not matter."""
    runs = [run(DAVE.document, "Failed", "x"), run(DAVE.document), run(ERIN.document)]
    result = check(evidence([DAVE, ERIN], [], runs), "sender.complete")
    assert (result.passed, result.evidence) == (
        True, "2 of 2 events have a Succeeded run: nothing lost",
    )  # fmt: skip


def test_complete_names_lost_events_and_their_last_attempt() -> None:
    """An event never run is lost; the evidence gives its attempts and the last answer."""
    requests = [
        request(1, ERIN.document, at=0.0, status=503),
        request(2, ERIN.document, at=1.5, status=None, dropped=True),
    ]
    result = check(evidence([DAVE, ERIN], requests, [run(DAVE.document)]), "sender.complete")
    assert not result.passed
    assert result.evidence == (
        f"1 of 2 events without a Succeeded run (1 lost); first: event for {ERIN_LABEL}: no run "
        "(2 attempt(s); the last, request #2 at 22:13:21.500, connection dropped before "
        "processing)"
    )
    none = check(evidence([DAVE], []), "sender.complete")
    assert none.evidence == (
        f"1 of 1 events without a Succeeded run (1 lost); first: event for {DAVE_LABEL}: no run "
        "(no request for it arrived)"
    )


def test_complete_groups_runs_failed_by_the_workflow() -> None:
    """Runs failed with one error: one line, counting every event, listing three then ``...``."""
    events = [event(n, f"u{n}@example.com") for n in range(1, 6)]
    runs = [run(e.document, "Failed", "field missing") for e in events[:4]]
    result = check(evidence(events, [], runs), "sender.complete")
    assert not result.passed
    labels = [e.label() for e in events]
    assert result.evidence == (
        "5 of 5 events without a Succeeded run (4 arrived but their run failed, 1 lost); first: "
        "4 event(s) arrived but their run Failed: field missing (the "
        "workflow's fields, not the sender: check the activation with qharness certify) "
        f"({labels[0]}; {labels[1]}; {labels[2]}; ...)"
    )
    assert result.details == f"event for {labels[4]}: no run (no request for it arrived)"
    three = check(evidence(events[:3], [], runs[:3]), "sender.complete")
    assert three.evidence.endswith(f"({labels[0]}; {labels[1]}; {labels[2]})")
    assert three.evidence.startswith(
        "3 of 3 events without a Succeeded run (3 arrived but their run failed); first: 3 event(s)"
    )


def test_complete_lists_at_most_twenty_more_lost_events() -> None:
    """The first problem in the evidence, the next 20 in the details."""
    events = [event(n, f"u{n}@example.com") for n in range(1, 25)]
    result = check(evidence(events, []), "sender.complete")
    assert result.evidence.startswith(
        "24 of 24 events without a Succeeded run (24 lost); first: event for u1@example.com"
    )
    assert result.details == "\n".join(
        f"event for {e.label()}: no run (no request for it arrived)" for e in events[1:21]
    )


# --- sender.no-duplicates ------------------------------------------------------------------


def test_two_runs_of_one_event_fail() -> None:
    """Two runs, answers not lost: a duplicate, naming the requests that were answered 202."""
    requests = [request(1, DAVE.document), request(2, DAVE.document, status=503),
                request(3, DAVE.document)]  # fmt: skip
    runs = [run(DAVE.document), run(DAVE.document)]
    result = check(evidence([DAVE, ERIN], requests, runs), "sender.no-duplicates")
    assert (result.passed, result.evidence) == (
        False, f"event for {DAVE_LABEL}: 2 runs (requests #1, #3)",
    )  # fmt: skip


def test_a_resend_after_a_lost_answer_is_reported_not_failed() -> None:
    """Exactly two runs, the first answer lost: the resend was right (Qualtrics does not dedup)."""
    requests = [request(1, DAVE.document, dropped=True), request(2, DAVE.document)]
    runs = [run(DAVE.document), run(DAVE.document)]
    result = check(evidence([DAVE], requests, runs), "sender.no-duplicates")
    line = (
        f"event for {DAVE_LABEL}: 2 runs (requests #1, #2): the answer to the first was lost, so "
        "resending it was right; Qualtrics does not deduplicate (reported, not failed)"
    )
    assert (result.passed, result.evidence, result.details) == (
        True, f"no unexplained duplicate; {line}", "",
    )  # fmt: skip
    three = check(evidence([DAVE], requests, [*runs, run(DAVE.document)]), "sender.no-duplicates")
    assert not three.passed  # a lost answer excuses one resend, not two


def test_a_lost_answer_excuses_only_its_own_event() -> None:
    """Erin's lost answer does not excuse Dave's second run; the excuse is still reported."""
    requests = [request(1, ERIN.document, dropped=True), request(2, ERIN.document),
                request(3, DAVE.document), request(4, DAVE.document)]  # fmt: skip
    runs = [run(ERIN.document), run(ERIN.document), run(DAVE.document), run(DAVE.document)]
    result = check(evidence([DAVE, ERIN], requests, runs), "sender.no-duplicates")
    assert not result.passed
    assert result.evidence == f"event for {DAVE_LABEL}: 2 runs (requests #3, #4)"
    assert result.details.startswith(f"event for {ERIN_LABEL}: 2 runs (requests #1, #2): the")


def test_no_duplicates_says_when_a_lost_answer_was_not_resent() -> None:
    """A lost answer followed by no second run is noted in the passing evidence."""
    requests = [request(1, DAVE.document, dropped=True)]
    result = check(evidence([DAVE], requests, [run(DAVE.document)]), "sender.no-duplicates")
    assert (result.passed, result.evidence) == (
        True,
        "no event has two runs (the lost answer to request #1 was not followed by a resend that "
        "made a second run)",
    )
    # A connection dropped before processing made no run: no answer was lost.
    early = [request(1, DAVE.document, status=None, dropped=True)]
    result = check(evidence([DAVE], early, [run(DAVE.document)]), "sender.no-duplicates")
    assert (result.passed, result.evidence) == (True, "no event has two runs")


# --- sender.retry-after ----------------------------------------------------------------------


def test_no_retry_after_nothing_to_honour() -> None:
    """Without a 429/503 carrying Retry-After the check passes, saying so."""
    requests = [request(1, DAVE.document, status=500, retry_after="5"),
                request(2, DAVE.document, status=429, retry_after="soon")]  # fmt: skip
    result = check(evidence([DAVE], requests), "sender.retry-after")
    assert (result.passed, result.evidence) == (
        True, "no answer carried Retry-After (2 request(s) made); nothing to honour",
    )  # fmt: skip


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize(
    ("gap", "early"), [(1.98, True), (1.995, False), (2.0, False), (2.5, False)]
)
def test_a_retry_must_wait_retry_after_within_10_ms(status: int, gap: float, early: bool) -> None:
    """The retry is early iff it arrives more than 10 ms before Retry-After has passed."""
    requests = [
        request(1, DAVE.document, at=0.0, answered=0.5, status=status, retry_after="2"),
        request(2, ERIN.document, at=1.0),
        request(3, DAVE.document, at=0.5 + gap),
    ]
    result = check(evidence([DAVE, ERIN], requests), "sender.retry-after")
    what = f"a {status} with Retry-After: 2"
    if early:
        assert not result.passed
        assert result.evidence == (
            f"retried {gap:.1f} s after {what} (request #1 at 22:13:20.500, retry #3 at "
            f"{clock(T0 + 0.5 + gap)}, {DAVE_LABEL})"
        )
    else:
        assert (result.passed, result.evidence) == (True, f"retried {gap:.1f} s after {what}")


def test_an_unmatched_request_is_retried_by_its_exact_bytes() -> None:
    """A body matching no event is followed by its byte-identical resend, nothing else."""
    requests = [
        request(1, b"{}", at=0.0, status=429, retry_after="3"),
        request(2, b"{ }", at=1.0),
        request(3, b"{}", at=2.0),
    ]
    result = check(evidence([DAVE], requests), "sender.retry-after")
    assert not result.passed
    assert result.evidence.startswith("retried 2.0 s after a 429 with Retry-After: 3 (request #1")
    assert "retry #3" in result.evidence
    assert result.evidence.endswith(", no expected event)")


def test_a_429_never_retried_is_honoured() -> None:
    """Not retrying at all never comes back early."""
    requests = [request(1, DAVE.document, status=503, retry_after="1.5")]
    result = check(evidence([DAVE], requests), "sender.retry-after")
    assert (result.passed, result.evidence) == (
        True, "request #1 (a 503 with Retry-After: 1.5) was not retried",
    )  # fmt: skip


def test_a_failure_shows_twenty_more_problems_then_a_count() -> None:
    """Problem 1 is the evidence, 2-21 the details, then ``... and N more``."""
    for count, more in [(21, []), (22, ["... and 1 more"]), (30, ["... and 9 more"])]:
        bodies = [request(n, f"x{n}".encode()) for n in range(1, count + 1)]
        result = check(evidence([DAVE], bodies), "sender.contract-valid")
        line = "request #{} (no expected event): the body is not JSON ({!r})"
        assert result.evidence == f"{count} problems; first: " + line.format(1, b"x1")
        shown = [line.format(n, f"x{n}".encode()) for n in range(2, min(count, 21) + 1)]
        assert result.details.splitlines() == [*shown, *more]


def test_every_excused_resend_is_reported_one_a_line() -> None:
    """Two lost answers, each resent: the first in the evidence, the second in the details;
    beside a real duplicate, both are in the details."""
    frank = event(3, "frank@example.com")
    requests = [request(1, DAVE.document, dropped=True), request(2, DAVE.document),
                request(3, ERIN.document, dropped=True), request(4, ERIN.document)]  # fmt: skip
    runs = [run(DAVE.document), run(DAVE.document), run(ERIN.document), run(ERIN.document)]

    def excused(label: str, first: int) -> str:
        return (
            f"event for {label}: 2 runs (requests #{first}, #{first + 1}): the answer to the first "
            "was lost, so resending it was right; Qualtrics does not deduplicate (reported, not "
            "failed)"
        )

    result = check(evidence([DAVE, ERIN, frank], requests, runs), "sender.no-duplicates")
    assert result.passed
    assert result.evidence == f"no unexplained duplicate; {excused(DAVE_LABEL, 1)}"
    assert result.details == excused(ERIN_LABEL, 3)
    third = [*requests, request(5, frank.document), request(6, frank.document)]
    result = check(
        evidence([DAVE, ERIN, frank], third, [*runs, run(frank.document), run(frank.document)]),
        "sender.no-duplicates",
    )
    assert not result.passed
    assert result.evidence == f"event for {frank.label()}: 2 runs (requests #5, #6)"
    assert result.details == excused(DAVE_LABEL, 1) + "\n" + excused(ERIN_LABEL, 3)


def test_a_retry_right_after_its_answer_is_found() -> None:
    """The very next request can be the retry; waiting exactly Retry-After minus 10 ms is on
    time; every honoured retry is listed, ``; `` between them."""
    requests = [
        request(1, DAVE.document, at=0.0, answered=0.5, status=429, retry_after="2.01"),
        request(2, DAVE.document, at=2.5, answered=2.5, status=503, retry_after="1"),
        request(3, DAVE.document, at=3.5),
    ]
    result = check(evidence([DAVE], requests), "sender.retry-after")
    assert (result.passed, result.evidence) == (
        True,
        "retried 2.0 s after a 429 with Retry-After: 2.01; retried 1.0 s after a 503 with "
        "Retry-After: 1",
    )
    early = [requests[0], request(2, DAVE.document, at=1.0)]
    assert not check(evidence([DAVE], early), "sender.retry-after").passed


def test_three_excused_resends_pass_with_two_in_the_details() -> None:
    """Every excused resend after the first is one line of the details."""
    events = [event(n, f"u{n}@example.com") for n in (1, 2, 3)]
    requests, runs = [], []
    for e in events:
        number = len(requests) + 1
        requests += [request(number, e.document, dropped=True), request(number + 1, e.document)]
        runs += [run(e.document), run(e.document)]
    result = check(evidence(events, requests, runs), "sender.no-duplicates")
    assert result.passed
    lines = result.details.split("\n")
    assert [line.split(":")[0] for line in lines] == [
        f"event for {events[1].label()}",
        f"event for {events[2].label()}",
    ]
    assert all(line.endswith("(reported, not failed)") for line in lines)
