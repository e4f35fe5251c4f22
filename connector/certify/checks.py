"""The certification's checks: registered functions, in one registry, with typed results.

A check is one function registered with :func:`register` beside the code of its stage, the way
schemathesis registers its checks: the registry gives every check its fixed name, a title (what
it proves) and its place. Names and order are those of the JUnit testcases, the report rows and
the JSON keys: stages in :data:`STAGES` order, checks in the order their module registers them.
``CHECK_NAMES`` (``qharness certify``) and ``SENDER_CHECKS`` (``qharness certify-sender``) are
read from the registry, never written out a second time. A failed check is a :class:`Failure`:
its title and a one-line message, as schemathesis reports failures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Final, TypeVar

__all__ = [
    "CHECK_NAMES",
    "DELIVERY_CHECKS",
    "PROPERTY_CHECKS",
    "SENDER_CHECKS",
    "STAGES",
    "WORKFLOW_CHECK",
    "Check",
    "CheckResult",
    "Failure",
    "names",
    "register",
    "registered",
]

#: Every stage, in the order its checks run and are reported; each has one home module.
STAGES: Final = {
    "activation": "connector.certify.runner",
    "property": "connector.certify.runner",
    "workflow": "connector.certify.runner",
    "delivery": "connector.certify.delivery_stage",
    "sender": "connector.certify.sender.grading",
}
#: The stages of ``qharness certify``; ``certify-sender`` has the ``sender`` stage alone.
CERTIFY_STAGES: Final = ("activation", "property", "workflow", "delivery")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class Check:
    """A registered check: its fixed name, its title, its stage and the function that runs it."""

    name: str
    title: str
    stage: str
    function: Callable[..., Any]


_REGISTRY: dict[str, Check] = {}

# Read from the registry on first use (module ``__getattr__`` below): declared, never restated.
CHECK_NAMES: tuple[str, ...]
PROPERTY_CHECKS: tuple[str, ...]
WORKFLOW_CHECK: str
DELIVERY_CHECKS: tuple[str, ...]
SENDER_CHECKS: tuple[str, ...]


def register(name: str, *, stage: str, title: str) -> Callable[[F], F]:
    """Register the decorated function as check ``name`` of ``stage`` (registration order)."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; known: {', '.join(STAGES)}")

    def decorate(function: F) -> F:
        if name in _REGISTRY and _REGISTRY[name].function is not function:
            raise ValueError(f"check {name!r} is registered twice")
        _REGISTRY[name] = Check(name, title, stage, function)
        return function

    return decorate


def registered(*stages: str) -> tuple[Check, ...]:
    """The checks of ``stages`` (all when none), stage by stage, each in registration order."""
    wanted = stages or tuple(STAGES)
    for stage in wanted:
        import_module(STAGES[stage])  # registers the stage's checks, once
    order = list(STAGES)
    checks = [c for c in _REGISTRY.values() if c.stage in wanted]
    return tuple(sorted(checks, key=lambda c: order.index(c.stage)))  # stable: keeps registration


def names(*stages: str) -> tuple[str, ...]:
    """The names of :func:`registered` checks."""
    return tuple(c.name for c in registered(*stages))


def __getattr__(name: str) -> Any:
    """The name lists, read from the registry when first asked for (the modules register)."""
    lists: dict[str, Callable[[], Any]] = {
        "CHECK_NAMES": lambda: names(*CERTIFY_STAGES),
        "PROPERTY_CHECKS": lambda: names("property"),
        "WORKFLOW_CHECK": lambda: names("workflow")[0],
        "DELIVERY_CHECKS": lambda: names("delivery"),
        "SENDER_CHECKS": lambda: names("sender"),
    }
    if name in lists:
        value = lists[name]()
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed check, typed: the check's title and what happened, in one line each."""

    title: str
    message: str
    details: str = ""


@dataclass(slots=True)
class CheckResult:
    """One check's verdict: ``evidence`` is the short line shown beside it; ``details`` the rest.

    ``details`` holds the failure's full evidence (the shrunk profile, the JSON paths, the replay
    command), shown under the check line in the terminal and as the JUnit ``<failure>`` text.
    ``data`` carries machine-readable facts for the JSON report.
    """

    name: str
    passed: bool
    evidence: str
    duration: float = 0.0
    details: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return "passed" if self.passed else "failed"

    @property
    def failure(self) -> Failure | None:
        """The typed failure (the registered check's title, the evidence), or ``None``."""
        if self.passed:
            return None
        check = _REGISTRY.get(self.name)
        return Failure(check.title if check else self.name, self.evidence, self.details)

    def full_evidence(self) -> str:
        return f"{self.evidence}\n{self.details}".rstrip() if self.details else self.evidence
