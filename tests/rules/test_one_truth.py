"""Facts both halves share are written once, in ``contracts/``, and every copy is derived.

Two checks: no hand-written copy of a shared literal anywhere in ``connector/`` or
``mock_qualtrics/`` (the source is parsed, so prose in docstrings may still name a fact), and each
derived value (the activation schema's field, the OpenAPI document's shapes, the mock's defaults,
the connector's constants) equals its source.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.paths import REPO

import contracts
from connector import validate, workflow_fields
from connector.delivery.policy import Backoff
from contracts import facts
from mock_qualtrics.config import DEFAULTS, Settings
from mock_qualtrics.openapi import document

PACKAGES = ("connector", "mock_qualtrics")
#: Integers that are shared facts: the body limit, the fault delay's maximum.
FACT_INTS = {facts.LIMITS.body_bytes, int(facts.fault_ranges()["delay_ms"].maximum)}
FACT_TEXTS = {facts.DELETED_WORKFLOW}
#: Written nowhere else even inside a longer string: the identifier rule, "102,400" in a message.
FACT_FRAGMENTS = (facts.IDENTIFIER_PATTERN.strip("^$"), f"{facts.LIMITS.body_bytes:,}")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (prose may name a fact)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def hand_written_copies(root: Path) -> Iterator[str]:
    """``file:line: what`` for every literal copy of a shared fact under ``root``'s packages."""
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            prose = _docstrings(tree)
            where = path.relative_to(root)
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and id(node) not in prose:
                    value = node.value
                    if type(value) is int and value in FACT_INTS:
                        yield f"{where}:{node.lineno}: the number {value}"
                    if isinstance(value, str) and value in FACT_TEXTS:
                        yield f"{where}:{node.lineno}: the text {value!r}"
                    if isinstance(value, str) and any(f in value for f in FACT_FRAGMENTS):
                        yield f"{where}:{node.lineno}: a shared fact in {value!r}"
                if isinstance(node, ast.Tuple | ast.List | ast.Set):
                    texts = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                    if len(texts & set(facts.RUN_STATUSES)) >= 2:
                        yield f"{where}:{node.lineno}: a list of run statuses"


def test_no_shared_fact_is_written_outside_contracts() -> None:
    """102,400, the fault delay's maximum, "Deleted Workflow", the statuses, the identifier rule:
    each is only ever read from ``contracts``."""
    assert list(hand_written_copies(REPO)) == []


def test_the_scan_finds_a_copy(tmp_path: Path) -> None:
    """The scan itself can fail: each kind of copy it looks for is found."""
    package = tmp_path / "connector"
    package.mkdir()
    (tmp_path / "mock_qualtrics").mkdir()
    (package / "bad.py").write_text(
        '"""Docstrings may say 102400 and "Deleted Workflow"."""\n'
        "LIMIT = 102_400\n"
        "DELAY = 60000\n"
        'NAME = "Deleted Workflow"\n'
        'STATUSES = ("Succeeded", "Failed")\n'
        "KEY = r'^[A-Za-z_][A-Za-z0-9_]*$'\n"
        'TITLE = "at most 102,400 bytes"\n'
    )
    found = list(hand_written_copies(tmp_path))
    assert [line.split(":")[1] for line in found] == ["2", "3", "4", "5", "6", "7"]


def test_the_activation_schema_takes_its_fields_from_the_workflow_field_contract() -> None:
    field = contracts.load("workflow-field")
    del field["$schema"], field["$id"]
    activation = contracts.load("activation")
    assert activation["properties"]["workflow"]["properties"]["fields"]["items"] == field
    assert activation["properties"]["destination"]["properties"]["api_token_env"]["pattern"] == (
        facts.IDENTIFIER_PATTERN
    )


def test_the_admin_document_serves_the_contracts_shapes() -> None:
    schemas = document()["components"]["schemas"]
    for component, contract in (("Field", "workflow-field"), ("FaultInput", "fault")):
        expected = contracts.load(contract)
        del expected["$schema"], expected["$id"]
        assert schemas[component] == expected
    assert schemas["Run"]["properties"]["status"]["enum"] == list(facts.RUN_STATUSES)


def test_both_halves_read_the_same_limits() -> None:
    limits = facts.LIMITS
    assert validate.MAX_PAYLOAD_BYTES == DEFAULTS["MAX_BODY_BYTES"] == limits.body_bytes
    assert workflow_fields.MAX_MANUAL_FIELDS == Settings().max_fields == limits.fields_per_workflow
    assert Settings().max_json_depth == limits.json_depth
    assert (Backoff().retry_after_min, Backoff().retry_after_max) == (
        facts.RETRY_AFTER.min,
        facts.RETRY_AFTER.max,
    )
    assert facts.RUN_STATUSES == ("queued", "Succeeded", "Failed")


@pytest.mark.parametrize(
    ("value", "inside"),
    [(0, True), (60000, True), (60001, False), (-1, False), (math.nan, False), (True, True)],
)
def test_fault_ranges_read_the_contract(value: float, inside: bool) -> None:
    """``Range`` is inclusive and refuses NaN; a bool counts as 0 or 1, as JSON Schema's
    validators in Python read it (the scenario checks types before ranges)."""
    assert (value in facts.fault_ranges()["delay_ms"]) is inside
