"""The harness's JSON Schema contracts and shared facts, shipped inside the wheel.

The schemas themselves are language-neutral draft-07 files beside this module; this module only
finds and reads them, so that the connector and the mock (which never import each other) read the
same bytes whether the package is installed or used from a checkout. A contract may use another
by its ``$id`` (the activation's workflow fields are the ``workflow-field`` contract): ``load``
inlines such a reference, so every caller gets one self-contained schema. The facts both halves
must agree on (limits, the run statuses, ...) are typed in :mod:`contracts.facts`. It also holds the
one rule both halves apply to a fidelity record (:func:`fidelity_sha256`): the connector writes it,
the mock checks it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["CONTRACT_NAMES", "fidelity_sha256", "load", "version", "versions"]

#: Every contract, by the name used in reports and on the command line.
CONTRACT_NAMES: tuple[str, ...] = (
    "activation",
    "aep-profile",
    "qualtrics-event",
    "run-record",
    "workflow-field",
    "fault",
    "fidelity-record",
)
#: The ``$id`` prefix every contract shares; a ``$ref`` to ``<prefix><name>/<version>`` is inlined.
ID_PREFIX = "https://qualtrics-harness.dev/contracts/"


@cache
def _load(name: str) -> str:
    if name not in CONTRACT_NAMES:
        raise KeyError(f"unknown contract {name!r}; known: {', '.join(CONTRACT_NAMES)}")
    return resources.files(__name__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")


def _inline(node: Any) -> Any:
    """``node`` with every ``{"$ref": "<a sibling contract's $id>"}`` replaced by that contract."""
    if isinstance(node, list):
        return [_inline(item) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(ID_PREFIX):
        name = ref.removeprefix(ID_PREFIX).split("/", 1)[0]
        target = load(name)
        if target["$id"] != ref:
            raise KeyError(f"contract reference {ref!r}: the bundled {name} is {target['$id']!r}")
        for key in ("$schema", "$id"):
            target.pop(key, None)
        return target
    return {key: _inline(value) for key, value in node.items()}


def load(name: str) -> dict[str, Any]:
    """Return a fresh, self-contained copy of contract ``name`` (callers may mutate it)."""
    schema: dict[str, Any] = _inline(json.loads(_load(name)))
    return schema


def version(name: str) -> str:
    """The contract's version: the last segment of its ``$id``."""
    schema_id: str = load(name)["$id"]
    return schema_id.rstrip("/").rsplit("/", 1)[-1]


def versions() -> dict[str, str]:
    """Every contract's version by name: what a report records it was checked against."""
    return {name: version(name) for name in CONTRACT_NAMES}


def fidelity_sha256(record: Mapping[str, Any]) -> str:
    """The ``sha256`` a fidelity record carries: over its canonical JSON (sorted keys, no spaces,
    UTF-8) without the ``sha256`` key itself. Why: the mock answers as the record says, so a
    record edited by hand (a status changed, a probe added) must be refused, not obeyed."""
    rest = {key: value for key, value in record.items() if key != "sha256"}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
