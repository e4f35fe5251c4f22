"""The fault scenario: which trigger requests of the sender the mock answers badly, and how.

A scenario is data (TOML): a list of faults, each with a window ``at = [from, to]`` (fractions of
the profiles to send) and the fields of the mock's fault API (``POST /__admin/faults``). The seed
picks one trigger request inside each window, counted from the first request (retries count), so
a run is replayed exactly with the same ``--seed`` and the plan can be printed before the sender
starts. The default scenario ships in the package (``scenario.toml`` beside this module); a user's
own is read with ``--scenario FILE``.
"""

from __future__ import annotations

import math
import random
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

import jsonschema

import contracts
from contracts.facts import fault_ranges

from ...errors import UsageError

__all__ = ["DEFAULT_SCENARIO", "FaultStep", "PlannedFault", "Scenario", "load_scenario"]

#: Shown in messages and reports for the scenario that ships inside the wheel.
DEFAULT_SCENARIO: Final = "<bundled scenario: default>"
#: The fault fields a step may carry, with their types (as the mock's fault API takes them).
#: Step keys that say how long a step lasts; they are the harness's, not the mock's.
_SPAN_FIELDS: Final = ("count", "duration_s")
_FAULT_FIELDS: Final[Mapping[str, type]] = {
    "status": int,
    "retry_after": int,
    "delay_ms": int,
    "drop_connection": bool,
    "count": int,  # consecutive trigger requests it answers (an outage), default 1
    "duration_s": float,  # or: every trigger request for this many seconds (an outage)
}


@dataclass(frozen=True, slots=True)
class FaultStep:
    """One fault of the scenario: its name, its window and the mock's fault fields."""

    name: str
    at: tuple[float, float]
    fault: Mapping[str, Any]

    @property
    def count(self) -> int:
        value = self.fault.get("count", 1)
        return value if isinstance(value, int) else 1

    @property
    def duration(self) -> float:
        value = self.fault.get("duration_s", 0.0)
        return float(value) if isinstance(value, int | float) else 0.0

    def mock_fault(self) -> dict[str, Any]:
        """The body for ``POST /__admin/faults`` (one request's worth when it lasts a while)."""
        fault = {k: v for k, v in self.fault.items() if k not in _SPAN_FIELDS}
        fault["count"] = 1 if self.duration else self.count
        return fault

    @property
    def retry_after(self) -> int | None:
        value = self.fault.get("retry_after")
        return value if isinstance(value, int) else None

    def describe(self) -> str:
        """What the sender sees: ``429 with Retry-After: 2``, ``connection dropped ...``."""
        status = self.fault.get("status")
        if self.fault.get("drop_connection"):
            return (
                "connection dropped before processing (no run)"
                if status is not None
                else "run recorded, then the connection dropped (the answer is lost)"
            )
        text = f"answered {status}"
        if self.retry_after is not None:
            text += f" with Retry-After: {self.retry_after}"
        if self.fault.get("delay_ms"):
            text += f" after {self.fault['delay_ms']} ms"
        if self.count > 1:
            text += f", {self.count} requests in a row"
        if self.duration:
            text += f", every request for {self.duration:g} s"
        return text


@dataclass(frozen=True, slots=True)
class PlannedFault:
    """A step placed on one trigger request (``request`` counts from 1)."""

    request: int
    step: FaultStep

    def describe(self) -> str:
        last = self.request + self.step.count - 1
        where = f"#{self.request}" if last == self.request else f"#{self.request}-#{last}"
        return f"request {where}: {self.step.describe()}"


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named list of fault steps, read from ``source``."""

    name: str
    description: str
    steps: tuple[FaultStep, ...]
    source: str

    def plan(self, profiles: int, seed: int) -> list[PlannedFault]:
        """Place every step on distinct trigger requests, in request order.

        A window ``[a, b]`` covers requests ``ceil(a * profiles)`` to ``ceil(b * profiles)``
        (at least 1); a step with ``count = n`` takes ``n`` requests in a row from there; when
        the seed's pick is taken, the next free request is used.
        """
        rng = random.Random(seed)  # noqa: S311 - reproducible fault placement  # nosec B311
        taken: set[int] = set()
        planned = []
        for step in self.steps:
            low = max(1, math.ceil(step.at[0] * profiles))
            high = max(low, math.ceil(step.at[1] * profiles))
            request = rng.randint(low, high)
            span = range(step.count)
            while any(request + i in taken for i in span):
                request += 1
            taken.update(request + i for i in span)
            planned.append(PlannedFault(request, step))
        return sorted(planned, key=lambda p: p.request)


def _fail(source: str, where: str, problem: str) -> UsageError:
    return UsageError(f"{source}: {where}: {problem}")


def _step(source: str, index: int, table: Any) -> FaultStep:
    where = f"faults[{index}]"
    if not isinstance(table, dict):
        raise _fail(source, where, "must be a table")
    unknown = sorted(set(table) - {"name", "at", *_FAULT_FIELDS})
    if unknown:
        raise _fail(source, f"{where}.{unknown[0]}", "unknown key")
    at = table.get("at")
    if (
        not isinstance(at, list)
        or len(at) != 2
        or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in at)
        or not 0 <= at[0] <= at[1] <= 1
    ):
        raise _fail(
            source, f"{where}.at", f"must be [from, to] with 0 <= from <= to <= 1, got {at!r}"
        )
    fault: dict[str, Any] = {}
    for key, kind in _FAULT_FIELDS.items():
        if key in table:
            value = table[key]
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise _fail(source, f"{where}.{key}", f"must be {kind.__name__}, got {value!r}")
            fault[key] = value
    if not 1 <= fault.get("count", 1) <= 10_000:
        raise _fail(source, f"{where}.count", f"must be 1 to 10000, got {fault['count']!r}")
    if not 0 < fault.get("duration_s", 1.0) <= 3_600:
        raise _fail(
            source, f"{where}.duration_s", f"must be 0 to 3600, got {fault['duration_s']!r}"
        )
    if "count" in fault and "duration_s" in fault:
        raise _fail(source, where, "give count or duration_s, not both")
    ranges = fault_ranges()
    for key in ("status", "retry_after", "delay_ms"):
        if key in fault and fault[key] not in ranges[key]:
            raise _fail(
                source,
                f"{where}.{key}",
                f"must be {ranges[key].words()} (the mock's fault range), got {fault[key]!r}",
            )
    if "status" not in fault and not fault.get("drop_connection") and not fault.get("delay_ms"):
        raise _fail(source, where, "a fault needs status, drop_connection or delay_ms")
    step = FaultStep("", (0.0, 0.0), fault)
    problem = _fault_contract().best_match(step.mock_fault())
    if problem is not None:  # anything else the mock's fault contract refuses
        raise _fail(source, where, f"the mock would refuse this fault: {problem}")
    name = table.get("name", f"fault {index + 1}")
    if not isinstance(name, str) or not name:
        raise _fail(source, f"{where}.name", f"must be a non-empty string, got {name!r}")
    return FaultStep(name, (float(at[0]), float(at[1])), fault)


@cache
def _fault_contract() -> _FaultContract:
    return _FaultContract()


class _FaultContract:
    """The ``fault`` contract, compiled: what ``POST /__admin/faults`` takes."""

    def __init__(self) -> None:
        self._validator = jsonschema.Draft7Validator(contracts.load("fault"))

    def best_match(self, body: Mapping[str, Any]) -> str | None:
        error = jsonschema.exceptions.best_match(self._validator.iter_errors(body))
        if error is None:
            return None
        where = ".".join(str(p) for p in error.absolute_path) or "body"
        return f"{where}: {error.message}"


def load_scenario(path: Path | None = None) -> Scenario:
    """The scenario in ``path`` (TOML), or the bundled default; ``UsageError`` names the key."""
    if path is None:
        source = DEFAULT_SCENARIO
        data = resources.files(__package__).joinpath("scenario.toml").read_bytes()
    else:
        source = str(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"--scenario {source!r}: cannot read: {exc.strerror or exc}") from None
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{source}: not a TOML scenario: {exc}") from None
    faults = document.get("faults", [])
    if not isinstance(faults, list):
        raise _fail(source, "faults", "must be an array of tables ([[faults]])")
    steps = tuple(_step(source, i, table) for i, table in enumerate(faults))
    name = document.get("name", Path(source).stem)
    return Scenario(str(name), str(document.get("description", "")), steps, source)
