"""Running the property and workflow-field checks over Hypothesis-generated profiles.

One Hypothesis run evaluates every active check on each generated profile, so a passing
certification generates its examples once. When a profile breaks a check, Hypothesis shrinks it to
a minimal one that still breaks it; that check is then recorded and the run repeated (same seed,
same profiles) without it, until a run passes. Each failed check therefore comes with its own
shrunk profile, and the seed replays everything.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from ..activation import Activation
from ..errors import ContractViolation
from ..render import Exclusion, Payload, Renderer, dumps
from ..strategies import profiles
from ..validate import MAX_PAYLOAD_BYTES, validator_for
from .checks import names
from .properties import RendererLike, expect, judge
from .workflow import describe_field, required_fields, resolves, unresolved

__all__ = ["Exploration", "Failure", "explore"]

#: After the first failure, stop shrinking after this long and keep the smallest profile so far.
SHRINK_BUDGET_SECONDS: Final = 5.0
#: How many distinct sendable profiles to keep for the delivery stage.
DELIVERY_SAMPLE: Final = 12


@dataclass(slots=True)
class Failure:
    """A check broken by ``profile`` (the shrunk one when Hypothesis could shrink it)."""

    check: str
    message: str
    profile: Any
    outcome: str = ""


@dataclass(slots=True)
class Exploration:
    """What the runs found: failures by check, counts from the complete run, and the payloads
    to deliver (rendered here once; the delivery stage sends them as they are)."""

    failures: dict[str, Failure] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    field_misses: Counter[str] = field(default_factory=Counter)
    field_hits: Counter[str] = field(default_factory=Counter)  # field -> payloads it resolved in
    deliverable: list[Payload] = field(default_factory=list)
    runs: int = 0
    duration: float = 0.0


class _Found(Exception):
    """Raised inside the Hypothesis test when a profile breaks an active check."""


def _outcome(result: Any) -> str:
    if result is None:
        return "passed over (no change to announce)"
    if isinstance(result, Exclusion):
        return f"excluded: {result}"
    if isinstance(result, Payload):
        return f"payload of {len(result.body):,} bytes"
    return repr(result)[:200]


class _Evaluator:
    """Evaluates the active checks on one profile and keeps the run's counts."""

    def __init__(
        self, activation: Activation, renderer: RendererLike, exploration: Exploration
    ) -> None:
        self.activation = activation
        self.renderer = renderer
        self.real = renderer if type(renderer) is Renderer else Renderer(activation)
        self.required = required_fields(activation)
        self.exploration = exploration
        self.event_ids: set[str] = set()
        self.property_checks = names("property")  # in the registry's order: the first one fails
        self.workflow_check = names("workflow")[0]

    def reset(self) -> None:
        self.exploration.counts.clear()
        self.exploration.field_misses.clear()
        self.exploration.field_hits.clear()
        self.exploration.deliverable.clear()
        self.event_ids.clear()

    def __call__(self, profile: Any, active: frozenset[str]) -> Failure | None:
        counts = self.exploration.counts
        counts["generated"] += 1
        try:
            result = self.renderer.build(profile)
        except Exception as exc:
            counts["crashed"] += 1
            if "property.no-crash" in active:
                return Failure(
                    "property.no-crash", f"the renderer raised {type(exc).__name__}: {exc}", profile
                )
            return None
        if isinstance(result, Payload):
            counts["sent"] += 1
        elif isinstance(result, Exclusion):
            counts[f"excluded: {result.reason}"] += 1
        else:
            counts["no change"] += 1
        expected = expect(self.activation, profile)
        verdicts = judge(self.activation, profile, result, expected)
        for check in self.property_checks:
            if check in verdicts.failures and check in active:
                return Failure(check, verdicts.failures[check], profile, _outcome(result))
        if isinstance(result, Payload) and _would_send(result):
            for item in self.activation.workflow_fields:
                if resolves(item, result.document):
                    self.exploration.field_hits[item.name] += 1
            missing = unresolved(self.required, result.document)
            for item in missing:
                self.exploration.field_misses[item.name] += 1
            if missing and self.workflow_check in active:
                message = "; ".join(describe_field(item) for item in missing)
                return Failure(
                    self.workflow_check,
                    f"{message}; this payload leaves it empty",
                    profile,
                    _outcome(result),
                )
        self._keep_for_delivery(profile, result)
        return None

    def _keep_for_delivery(self, profile: Any, result: Any) -> None:
        """Keep the payload (not the profile) for the delivery stage: it is sent as it is.

        Only a stand-in renderer (the ``renderer_factory`` seam) needs the real one here: the
        connector delivers what the real renderer makes."""
        if len(self.exploration.deliverable) >= DELIVERY_SAMPLE:
            return
        if self.real is not self.renderer:
            try:
                result = self.real.render(profile)
            except ContractViolation:
                return
        if (
            isinstance(result, Payload)
            and _would_send(result)
            and result.event_id not in self.event_ids
        ):
            self.event_ids.add(result.event_id)
            self.exploration.deliverable.append(result)


def _would_send(payload: Payload) -> bool:
    """The connector sends only payloads within the size limit that pass the contract."""
    return len(payload.body) <= MAX_PAYLOAD_BYTES and validator_for("qualtrics-event").is_valid(
        payload.document
    )


def _call(evaluate: _Evaluator, active: frozenset[str], profile: Any) -> Failure | None:
    return evaluate(profile, active)


def _size(profile: Any) -> int:
    try:
        return len(dumps(profile))
    except (TypeError, ValueError):
        return len(repr(profile))


def explore(
    activation: Activation,
    *,
    examples: int,
    seed: int,
    renderer: RendererLike | None = None,
    checks: tuple[str, ...] | None = None,
    on_run: Callable[[int], None] | None = None,
) -> Exploration:
    """Run ``checks`` over ``examples`` generated profiles (see the module doc)."""
    started = time.perf_counter()
    exploration = Exploration()
    evaluate = _Evaluator(activation, renderer or Renderer(activation), exploration)
    strategy = profiles(activation)
    config = settings(
        settings.get_profile("default"),
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
    )
    active = frozenset(names("property", "workflow") if checks is None else checks)
    while True:
        exploration.runs += 1
        if on_run is not None:
            on_run(exploration.runs)
        evaluate.reset()
        failure = _run_once(strategy, config, seed, functools.partial(_call, evaluate, active))
        if failure is None:
            break
        exploration.failures[failure.check] = failure
        active = active - {failure.check}
        if not active:
            break
    exploration.duration = time.perf_counter() - started
    return exploration


def _run_once(
    strategy: Any, config: settings, seed: int, evaluate: Callable[[Any], Failure | None]
) -> Failure | None:
    found: list[Failure] = []
    first_failure_at: list[float] = []

    def check_profile(profile: Any) -> None:
        failure = evaluate(profile)
        if failure is None:
            return
        now = time.monotonic()
        if not first_failure_at:
            first_failure_at.append(now)
        elif now - first_failure_at[0] > SHRINK_BUDGET_SECONDS:
            return  # enough shrinking: the smallest failure so far is kept below
        found.append(failure)
        raise _Found(failure.check)

    wrapped = given(strategy)(check_profile)  # type: ignore[no-untyped-call]
    configured = config(wrapped)
    test: Callable[[], None] = hypothesis_seed(seed)(configured)
    try:
        test()
    except _Found:
        return found[-1]
    except Exception:
        # Hypothesis found the failure flaky (for instance, shrinking was cut short): report the
        # smallest profile that did fail.
        if not found:
            raise
        return min(found, key=lambda f: _size(f.profile))
    return None
