"""The seven sender checks, from what the mock received and recorded.

Every received payload is matched to the expected event it shares the most identities and
audience changes with (:func:`~.feed.handles`), never by byte equality: key order, spacing and
escaping are the sender's business. Each check returns a :class:`CheckResult` whose evidence a
partner can act on: which event, which field, which request, when, and what the mock answered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import contracts

from ... import exactjson
from ...validate import MAX_PAYLOAD_BYTES, payload_violations
from ..checks import CheckResult, register, registered
from .feed import Expected, handles
from .process import SenderRun
from .recorder import Received
from .values import same_value

__all__ = ["Evidence", "clock", "differences", "grade"]

#: Timer slack when comparing a retry's arrival with the Retry-After it was given.
RETRY_SLACK_SECONDS: Final = 0.01
#: Problems listed in a check's details at most (the count is always given).
SHOWN: Final = 20
#: Statuses whose Retry-After a sender must honour.
RETRY_AFTER_STATUSES: Final = (429, 503)


def clock(epoch: float) -> str:
    """``12:00:03.120`` (UTC): how evidence gives a time."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S.%f")[:-3]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} characters)"


@dataclass(slots=True)
class Evidence:
    """What grading works from, with each request matched to its event (or ``None``)."""

    expected: Sequence[Expected]
    requests: Sequence[Received]
    runs: Sequence[dict[str, Any]]
    sender: SenderRun
    documents: dict[int, Any] = field(default_factory=dict)  # request number -> parsed body
    matched: dict[int, Expected | None] = field(default_factory=dict)
    run_events: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # event no. -> runs
    stray_runs: int = 0
    byte_exact: bool = False  # numbers must also arrive with the same text

    def __post_init__(self) -> None:
        index: dict[str, list[Expected]] = defaultdict(list)
        for event in self.expected:
            for handle in handles(event.document):
                index[handle].append(event)

        def match(document: Any) -> Expected | None:
            scores: dict[int, int] = defaultdict(int)
            for handle in handles(document):
                for event in index.get(handle, ()):
                    # An identity names one event; an audience change may be shared.
                    scores[event.number] += 10 if handle.startswith("ns:") else 1
            if not scores:
                return None
            best = max(scores, key=lambda n: (scores[n], -n))
            return by_number[best]

        by_number = {event.number: event for event in self.expected}
        for request in self.requests:
            try:  # numbers as sent: 9007199254740993 must not become ...992 here
                document = exactjson.loads(request.body)
            except ValueError:
                document = None
            self.documents[request.number] = document
            self.matched[request.number] = match(document)
        for run in self.runs:
            found = match(run.get("payload"))
            if found is None:
                self.stray_runs += 1
            else:
                self.run_events.setdefault(found.number, []).append(run)

    def requests_for(self, event: Expected) -> list[Received]:
        return [r for r in self.requests if self.matched.get(r.number) is event]

    def label(self, request: Received) -> str:
        event = self.matched.get(request.number)
        return event.label() if event is not None else "no expected event"

    def timeline(self) -> list[dict[str, Any]]:
        """Every trigger request: number, time, event, size, auth, answer, fault played."""
        start = self.requests[0].received if self.requests else 0.0
        return [
            {
                "request": r.number,
                "at": clock(r.received),
                "offset_s": round(r.received - start, 3),
                "event": self.label(r),
                "bytes": len(r.body),
                "sha256": r.sha256[:16],
                "auth": r.auth,
                "status": r.status,
                "outcome": r.outcome,
                "fault": r.fault,
            }
            for r in self.requests
        ]


def _result(name: str, problems: list[str], passing: str, extra: str = "") -> CheckResult:
    if not problems:
        return CheckResult(name, True, passing, details=extra)
    first = problems[0] if len(problems) == 1 else f"{len(problems)} problems; first: {problems[0]}"
    rest = problems[1 : SHOWN + 1]
    more = [f"... and {len(problems) - SHOWN - 1} more"] if len(problems) > SHOWN + 1 else []
    return CheckResult(name, False, first, details="\n".join([*rest, *more, extra]).strip())


@register("sender.exit", stage="sender", title="The sender exits 0 within its timeout")
def _exit(ev: Evidence) -> CheckResult:
    run = ev.sender
    tail = "\n".join(["output tail:", *run.tail]) if run.tail else "it printed nothing"
    if run.exit_code == 0 and not run.timed_out:
        return CheckResult("sender.exit", True, run.describe())
    last = next((line for line in reversed(run.tail) if line.strip()), "")
    evidence = run.describe() + (f"; last output: {last[:200]}" if last else "; no output")
    return CheckResult("sender.exit", False, evidence, details=tail)


@register(
    "sender.auth",
    stage="sender",
    title="Every request carries the workflow's credentials, never in the URL",
)
def _auth(ev: Evidence) -> CheckResult:
    requests = ev.requests
    if not requests:
        return _result("sender.auth", ["no request reached the trigger URL"], "")
    problems = []
    in_url = [r.number for r in requests if r.token_in_url]
    if in_url:
        problems.append(
            f"{len(in_url)} request(s) carried the API token in the URL (#{_numbers(in_url)}); "
            "send it only in X-API-TOKEN or Basic auth"
        )
    missing = [r for r in requests if r.auth not in ("Basic", "X-API-TOKEN")]
    if missing:
        problems.append(
            f"{len(missing)} request(s) carried no X-API-TOKEN or Basic credentials "
            f"(#{_numbers([r.number for r in missing])}; first: {missing[0].auth!r}), "
            f"answered {missing[0].status}"
        )
    wrong = [r for r in requests if r.auth in ("Basic", "X-API-TOKEN") and not r.credentials_ok]
    if wrong:
        problems.append(
            f"{len(wrong)} request(s) carried credentials that are not QHARNESS_USERNAME and "
            f"QHARNESS_API_TOKEN (#{_numbers([r.number for r in wrong])}), answered "
            f"{wrong[0].status}"
        )
    kinds = sorted({r.auth for r in requests})
    return _result(
        "sender.auth",
        problems,
        f"{len(requests)} request(s), all with {' or '.join(kinds)} credentials that match; "
        "the token never in the URL",
    )


def _numbers(numbers: Sequence[int]) -> str:
    shown = ", #".join(str(n) for n in numbers[:8])
    return shown + (", ..." if len(numbers) > 8 else "")


@register(
    "sender.contract-valid",
    stage="sender",
    title=f"Every body is valid against qualtrics-event and at most {MAX_PAYLOAD_BYTES:,} bytes",
)
def _contract(ev: Evidence) -> CheckResult:
    if not ev.requests:
        return _result("sender.contract-valid", ["no body arrived to check"], "")
    problems = []
    seen: set[str] = set()
    for request in ev.requests:
        if request.sha256 in seen:
            continue
        seen.add(request.sha256)
        document = ev.documents[request.number]
        where = f"request #{request.number} ({ev.label(request)})"
        if document is None:
            problems.append(f"{where}: the body is not JSON ({request.body[:60]!r})")
            continue
        for violation in payload_violations(document, len(request.body)):
            problems.append(f"{where}: {violation}")
    largest = max(len(r.body) for r in ev.requests)
    return _result(
        "sender.contract-valid",
        problems,
        f"{len(seen)} distinct bodies valid against qualtrics-event "
        f"{contracts.version('qualtrics-event')}; largest {largest:,} bytes "
        f"(limit {MAX_PAYLOAD_BYTES:,})",
    )


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and value:
        for position, item in enumerate(value):
            yield from _leaves(item, f"{path}[{position}]")
    else:
        yield path, value


def _shown(value: Any) -> str:
    """A value as evidence shows it: a number as its JSON text, anything else its repr."""
    text = exactjson.number_text(value)
    if text is None:
        return _short(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} digits and signs)"


def differences(
    expected: Any, received: Any, *, byte_exact: bool = False
) -> tuple[list[str], list[str]]:
    """(changes that fail, unmapped extras that are only noted), as one line each."""
    want = dict(_leaves(expected))
    got = dict(_leaves(received))
    changes, extras = [], []
    for path, value in want.items():
        if path not in got:
            changes.append(f"`{path}` is missing (expected {_shown(value)})")
        elif not same_value(value, got[path], byte_exact=byte_exact):
            changes.append(f"`{path}` arrived as {_shown(got[path])} (expected {_shown(value)})")
    for path in got.keys() - want.keys():
        line = f"`{path}` = {_short(got[path])} is not in the expected payload"
        if path.startswith(("identityMap", "segmentMembership")):
            changes.append(line)
        else:
            extras.append(line)
    return changes, sorted(extras)


@register(
    "sender.values-unchanged", stage="sender", title="Every event arrives with its values unchanged"
)
def _values(ev: Evidence) -> CheckResult:
    problems: list[str] = []
    notes: list[str] = []
    compared: set[int] = set()
    changed: dict[tuple[int, str], list[int]] = {}  # (event, change) -> requests carrying it
    for request in ev.requests:
        document = ev.documents[request.number]
        if not isinstance(document, dict):
            continue
        event = ev.matched[request.number]
        if event is None:
            problems.append(
                f"request #{request.number} matches no expected event (none of its identities "
                "or audience changes was fed to the sender)"
            )
            continue
        compared.add(event.number)
        changes, extras = differences(event.document, document, byte_exact=ev.byte_exact)
        for change in changes:
            changed.setdefault((event.number, change), []).append(request.number)
        notes += [f"note: request #{request.number}: {x}" for x in extras]
    for (number, change), requests in changed.items():
        label = next(e for e in ev.expected if e.number == number).label()
        problems.append(f"event for {label} (request #{_numbers(requests)}): {change}")
    if not compared and not problems:
        problems.append("no expected event arrived to compare")
    unique = list(dict.fromkeys(problems))
    return _result(
        "sender.values-unchanged",
        unique,
        f"{len(compared)} event(s) arrived with every identity, attribute and audience change "
        "unchanged",
        "\n".join(dict.fromkeys(notes)),
    )


def _last_attempt(ev: Evidence, event: Expected) -> str:
    attempts = ev.requests_for(event)
    if not attempts:
        return "no request for it arrived"
    last = attempts[-1]
    return (
        f"{len(attempts)} attempt(s); the last, request #{last.number} at {clock(last.received)}, "
        f"{last.outcome}"
    )


@register("sender.complete", stage="sender", title="Every event has a Succeeded run")
def _complete(ev: Evidence) -> CheckResult:
    problems = []
    failed: dict[str, list[str]] = {}  # run error -> events (one line per error, not per event)
    for event in ev.expected:
        runs = ev.run_events.get(event.number, [])
        if any(run.get("status") == "Succeeded" for run in runs):
            continue
        if runs:
            error = f"{runs[0].get('status')}: {runs[0].get('error')}"
            failed.setdefault(error, []).append(event.label())
        else:  # lost: no run, whether its requests were refused or never came
            problems.append(f"event for {event.label()}: no run ({_last_attempt(ev, event)})")
    for error, labels in failed.items():
        shown = "; ".join(labels[:3]) + ("; ..." if len(labels) > 3 else "")
        problems.insert(
            0,
            f"{len(labels)} event(s) arrived but their run {error} (the workflow's fields, not "
            f"the sender: check the activation with qharness certify) ({shown})",
        )
    total = len(ev.expected)
    if problems:
        # An event whose run Failed arrived: it is counted apart from the lost ones, so the
        # headline never calls an event lost that the workflow received.
        arrived = sum(len(labels) for labels in failed.values())
        lost = len(problems) - len(failed)
        kinds = [f"{arrived} arrived but their run failed"] if arrived else []
        kinds += [f"{lost} lost"] if lost else []
        headline = (
            f"{arrived + lost} of {total} events without a Succeeded run ({', '.join(kinds)}); "
            f"first: {problems[0]}"
        )
        return CheckResult(
            "sender.complete", False, headline, details="\n".join(problems[1 : SHOWN + 1])
        )
    return CheckResult(
        "sender.complete", True, f"{total} of {total} events have a Succeeded run: nothing lost"
    )


def _lost_answers(ev: Evidence) -> list[Received]:
    return [r for r in ev.requests if r.dropped and r.outcome.startswith("run recorded")]


@register("sender.no-duplicates", stage="sender", title="No event has two runs")
def _duplicates(ev: Evidence) -> CheckResult:
    lost = _lost_answers(ev)
    excused_events = {event.number for r in lost if (event := ev.matched.get(r.number)) is not None}
    problems, reported = [], []
    for event in ev.expected:
        runs = ev.run_events.get(event.number, [])
        if len(runs) < 2:
            continue
        numbers = [r.number for r in ev.requests_for(event) if r.status == 202]  # made a run
        line = f"event for {event.label()}: {len(runs)} runs (requests #{_numbers(numbers)})"
        if len(runs) == 2 and event.number in excused_events:
            reported.append(
                line + ": the answer to the first was lost, so resending it was right; "
                "Qualtrics does not deduplicate (reported, not failed)"
            )
        else:
            problems.append(line)
    if problems:
        return _result("sender.no-duplicates", problems, "", "\n".join(reported))
    evidence = "no event has two runs"
    if reported:
        evidence = f"no unexplained duplicate; {reported[0]}"
    elif lost:
        evidence += (
            f" (the lost answer to request #{lost[0].number} was not followed by a resend "
            "that made a second run)"
        )
    return CheckResult("sender.no-duplicates", True, evidence, details="\n".join(reported[1:]))


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@register("sender.retry-after", stage="sender", title="No retry comes back before its Retry-After")
def _retry_after(ev: Evidence) -> CheckResult:
    problems, honoured = [], []
    for position, request in enumerate(ev.requests):
        wait = _seconds(request.retry_after)
        if request.status not in RETRY_AFTER_STATUSES or wait is None:
            continue
        event = ev.matched.get(request.number)

        def same(other: Received, request: Received = request, event: Any = event) -> bool:
            if event is not None:
                return ev.matched.get(other.number) is event
            return other.sha256 == request.sha256

        retry = next((r for r in ev.requests[position + 1 :] if same(r)), None)
        what = f"a {request.status} with Retry-After: {request.retry_after}"
        if retry is None:
            honoured.append(f"request #{request.number} ({what}) was not retried")
            continue
        gap = retry.received - request.answered
        if gap + RETRY_SLACK_SECONDS < wait:
            problems.append(
                f"retried {gap:.1f} s after {what} (request #{request.number} at "
                f"{clock(request.answered)}, retry #{retry.number} at {clock(retry.received)}, "
                f"{ev.label(request)})"
            )
        else:
            honoured.append(f"retried {gap:.1f} s after {what}")
    if not problems and not honoured:
        return CheckResult(
            "sender.retry-after",
            True,
            f"no answer carried Retry-After ({len(ev.requests)} request(s) made); nothing to honour",
        )
    return _result("sender.retry-after", problems, "; ".join(honoured))


def grade(ev: Evidence) -> list[CheckResult]:
    """The registered sender checks, in their fixed order."""
    return [check.function(ev) for check in registered("sender")]
