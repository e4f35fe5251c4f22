"""``certify_sender()``: feed the sender, run it against the faulty mock, grade what arrived.

Order: generate the profiles and their expected events (seeded); start the mock with a user
and a workflow whose fields come from the activation; write the profiles and the activation copy
to a private temporary directory; plan the scenario's faults (seeded) and print the plan; run the
sender once with its environment; wait for the runs of every accepted request; grade.
"""

from __future__ import annotations

import secrets
import shlex
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar, Final

import contracts

from ...activation import Activation
from ...redact import REDACTED, redact_url
from ...workflow_fields import mock_fields
from ..checks import SENDER_CHECKS, CheckResult
from ..runner import Certification, tool_version
from .feed import make_feed, write_activation_copy, write_profiles
from .grading import Evidence, grade
from .mock import sender_mock
from .process import check_command, run_sender
from .recorder import Received
from .scenario import PlannedFault, Scenario

__all__ = [
    "DEFAULT_PROFILES",
    "DEFAULT_TIMEOUT",
    "ENV_NAMES",
    "SenderCertification",
    "certify_sender",
]

#: Profiles the sender is fed by default.
DEFAULT_PROFILES: Final = 50
#: Seconds the sender may run by default.
DEFAULT_TIMEOUT: Final = 300.0
#: The sender's environment contract, in the order the README lists it.
ENV_NAMES: Final = (
    "QHARNESS_TRIGGER_URL",
    "QHARNESS_USERNAME",
    "QHARNESS_API_TOKEN",
    "QHARNESS_PROFILES",
    "QHARNESS_ACTIVATION",
)
#: Seconds to wait for the runs of the accepted requests once the sender is done.
RUNS_TIMEOUT: Final = 15.0


@dataclass(slots=True)
class SenderCertification(Certification):
    """A certification of a sender: the checks, plus the scenario, command and timeline."""

    command: str = ""
    scenario: Scenario | None = None
    plan: list[PlannedFault] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    received: str = ""  # one line: what the mock received and answered
    flags: tuple[str, ...] = ()  # --strict-numbers, --byte-exact: for the replay line

    COMMAND: ClassVar[str] = "certify-sender"

    def title(self) -> str:
        return "Sender certification for"

    def replay(self) -> str:
        where = (
            ""
            if self.activation.source.startswith("bundled")
            else f" --activation {self.activation.source}"
        )
        where += "".join(f" {flag}" for flag in self.flags)
        scenario = ""
        if self.scenario is not None and not self.scenario.source.startswith("<"):
            scenario = f" --scenario {self.scenario.source}"
        return (
            f"qharness certify-sender{where}{scenario} --seed {self.seed} "
            f"--profiles {self.examples} -- {self.command}"
        )

    def extra_facts(self) -> list[tuple[str, str]]:
        name = self.scenario.name if self.scenario else ""
        return [
            ("sender command", self.command),
            ("scenario", f"{name}: {self.scenario.description}" if self.scenario else ""),
            ("faults", "; ".join(p.describe() for p in self.plan) or "none"),
            ("trigger requests", self.received),
        ]

    def sections(self) -> list[tuple[str, str]]:
        rows = [
            f"#{row['request']:<4} {row['at']}  +{row['offset_s']:>7.3f} s  {row['bytes']:>6} B  "
            f"{row['auth']:<11} {row['outcome']}{'  [' + row['fault'] + ']' if row['fault'] else ''}"
            f"  {row['event']}"
            for row in self.timeline
        ]
        return [
            ("Fault scenario", "\n".join(p.describe() for p in self.plan) or "no faults"),
            ("Timeline of every trigger request (UTC)", "\n".join(rows) or "no request arrived"),
            ("Sender output (tail, secrets redacted)", "\n".join(self.tail) or "(no output)"),
        ]

    def extra_json(self) -> dict[str, Any]:
        return {
            "sender_command": self.command,
            "scenario": {
                "name": self.scenario.name if self.scenario else "",
                "source": self.scenario.source if self.scenario else "",
                "faults": [
                    {"request": p.request, "name": p.step.name, **dict(p.step.fault)}
                    for p in self.plan
                ],
            },
            "timeline": self.timeline,
            "sender_output_tail": self.tail,
        }


def _received_summary(requests: Sequence[Received], plan: Sequence[PlannedFault]) -> str:
    """``the mock received 25 trigger requests: 19 answered 202, ...; fault ... never played``."""
    outcomes = Counter(r.outcome for r in requests)
    text = f"the mock received {len(requests)} trigger request(s)"
    if outcomes:
        text += ": " + ", ".join(f"{n} {outcome}" for outcome, n in outcomes.most_common())
    unplayed = [p for p in plan if p.request > len(requests)]
    if unplayed:
        text += "; not played (too few requests): " + "; ".join(p.describe() for p in unplayed)
    return text


def _workflow_fields(activation: Activation) -> list[dict[str, Any]]:
    return mock_fields(activation.workflow_fields)[0]


class _Redactor:
    """Replaces the token, the trigger URL and its ``urlTokenId`` in any text."""

    def __init__(self, token: str) -> None:
        self.secrets = [token]

    def add_url(self, url: str) -> None:
        self.secrets.insert(0, url)
        token_id = url.rsplit("=", 1)[-1]
        if token_id:
            self.secrets.append(token_id)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, redact_url(secret) if "://" in secret else REDACTED)
        return text


def certify_sender(
    activation: Activation,
    activation_bytes: bytes,
    command: Sequence[str],
    *,
    scenario: Scenario,
    profiles: int = DEFAULT_PROFILES,
    seed: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    strict_numbers: bool = False,
    byte_exact: bool = False,
    own_profiles: Sequence[dict[str, Any]] = (),
    on_check: Callable[[CheckResult], None] | None = None,
    say: Callable[[str], None] = lambda line: None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    mock_config: Mapping[str, Any] | None = None,
) -> SenderCertification:
    """Certify the sender ``command`` (see the module doc); ``say`` prints progress lines.

    ``own_profiles`` (the user's, checked) are fed before the ``profiles`` generated ones;
    ``strict_numbers`` adds numbers no XDM type holds; ``byte_exact`` grades every number by its
    text as well as its value; ``mock_config`` adds mock settings (``FIDELITY_RECORD``: follow a
    fidelity record)."""
    check_command(command)
    started = time.perf_counter()
    if seed is None:
        seed = secrets.randbelow(2**32)
    username = f"qharness-sender-{secrets.token_hex(4)}@example.com"
    token = secrets.token_urlsafe(24)
    redact = _Redactor(token)
    result = SenderCertification(
        activation=activation,
        seed=seed,
        examples=profiles,
        contracts=contracts.versions(),
        tool_version=tool_version(),
        mock="embedded (faithful: no deduplication)",
        command=shlex.join(command),
        scenario=scenario,
        flags=tuple(
            flag
            for flag, on in (("--strict-numbers", strict_numbers), ("--byte-exact", byte_exact))
            if on
        ),
    )
    feed = make_feed(activation, profiles, seed, strict_numbers=strict_numbers, own=own_profiles)
    plan = scenario.plan(len(feed.profiles), seed)
    result.plan = plan
    say(f"fault scenario {scenario.name!r} ({scenario.source}):")
    for planned in plan:
        say(f"  {planned.describe()}")
    with (
        tempfile.TemporaryDirectory(prefix="qharness-sender-") as workdir,
        sender_mock(
            username=username,
            token=token,
            workflow_name=f"certify-sender {activation.destination.name}"[:200],
            fields=_workflow_fields(activation),
            plan=plan,
            mock_config=mock_config,
        ) as mock,
    ):
        redact.add_url(mock.trigger_url)
        result.command = redact(result.command)
        profiles_path = Path(workdir, "profiles.jsonl")
        activation_path = Path(workdir, "activation.json")
        write_profiles(feed, profiles_path)
        write_activation_copy(
            activation,
            activation_bytes,
            activation_path,
            url=mock.trigger_url,
            username=username,
            token_env="QHARNESS_API_TOKEN",  # noqa: S106 - a variable's name  # nosec B106
        )
        env = dict(
            zip(
                ENV_NAMES,
                (mock.trigger_url, username, token, str(profiles_path), str(activation_path)),
                strict=True,
            )
        )
        say(f"running the sender (timeout {timeout:g} s): {result.command}")
        sender = run_sender(
            command, env, timeout=timeout, redact=redact, stdout=stdout, stderr=stderr
        )
        say(f"sender {sender.describe()}")
        requests = mock.requests
        result.received = _received_summary(requests, plan)
        say(result.received)
        accepted = sum(1 for r in requests if r.status == 202)
        runs = mock.runs(accepted, timeout=RUNS_TIMEOUT) if accepted else []
    evidence = Evidence(feed.expected, requests, runs, sender, byte_exact=byte_exact)
    result.timeline = evidence.timeline()
    result.tail = sender.tail
    result.counts = {
        "profiles fed": len(feed.profiles),
        "expected events": len(feed.expected),
        "trigger requests": len(requests),
        "runs": len(runs),
    }
    for check in grade(evidence):
        check.evidence = redact(check.evidence)
        check.details = redact(check.details)
        result.checks.append(check)
        if on_check is not None:
            on_check(check)
    result.duration = time.perf_counter() - started
    assert [c.name for c in result.checks] == list(SENDER_CHECKS)  # noqa: S101 - invariant
    return result
