"""The import rules of ARCHITECTURE.md and the public surface of each package, checked."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: The only connector modules allowed to import mock_qualtrics.
MOCK_USERS = {
    "connector/mock_fixture.py",  # the pytest plugin's fixture (plugin.py imports only pytest)
    "connector/certify/embedded.py",
    "connector/certify/sender/mock.py",
    "connector/certify/delivery_stage.py",  # the admin client, mock_qualtrics.client
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def sources(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def test_mock_never_imports_connector() -> None:
    """mock_qualtrics stands alone: it reads contracts, never the connector."""
    offenders = [
        str(p.relative_to(REPO)) for p in sources("mock_qualtrics") if "connector" in imports_of(p)
    ]
    assert offenders == []


def test_connector_core_never_imports_the_mock() -> None:
    """Only certification's embedded mock, the pytest plugin and the CLI may import the mock."""
    offenders = [
        rel
        for p in sources("connector")
        if "mock_qualtrics" in imports_of(p)
        and (rel := str(p.relative_to(REPO))) not in MOCK_USERS
        and not rel.startswith("connector/cli/")
    ]
    assert offenders == []


@pytest.mark.parametrize("package", ["connector", "mock_qualtrics", "contracts"])
def test_public_surface_is_declared(package: str) -> None:
    """Each package declares __all__, and every name in it exists."""
    module = __import__(package)
    assert module.__doc__
    exported = module.__all__
    assert exported, f"{package}.__all__ is empty"
    assert len(set(exported)) == len(exported)
    for name in exported:
        assert hasattr(module, name), f"{package}.__all__ names {name!r}, which does not exist"


def test_connector_exports() -> None:
    """The connector's surface, exactly: a name added or dropped is a decision, made here too."""
    import connector

    assert sorted(connector.__all__) == [
        "Activation",
        "ActivationError",
        "AuthRejected",
        "ContractValidator",
        "ContractViolation",
        "DeliveryError",
        "Exclusion",
        "GovernanceError",
        "HarnessError",
        "Payload",
        "Renderer",
        "SecretError",
        "StateError",
        "UrlGuardError",
        "UsageError",
        "load_activation",
        "parse_activation",
        "validator_for",
    ]
