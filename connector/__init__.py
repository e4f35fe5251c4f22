"""The lean connector: load an activation, render payloads, check them against the contracts,
deliver them, and certify the whole chain against the mock.

The core (``activation``, ``render``, ``validate``, delivery) never imports ``mock_qualtrics``;
only certification, the pytest plugin and the CLI do.

Names are loaded on first use (PEP 562), so the CLI's ``qharness mock serve`` imports none of the
core (nor its validators): the mock image carries only what the mock needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .activation import Activation, load_activation, parse_activation
    from .errors import (
        ActivationError,
        AuthRejected,
        ContractViolation,
        DeliveryError,
        GovernanceError,
        HarnessError,
        SecretError,
        StateError,
        UrlGuardError,
        UsageError,
    )
    from .render import Exclusion, Payload, Renderer
    from .validate import ContractValidator, validator_for

__all__ = [
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

_HOMES = {
    "Activation": "activation",
    "ActivationError": "errors",
    "AuthRejected": "errors",
    "ContractValidator": "validate",
    "ContractViolation": "errors",
    "DeliveryError": "errors",
    "Exclusion": "render",
    "GovernanceError": "errors",
    "HarnessError": "errors",
    "Payload": "render",
    "Renderer": "render",
    "SecretError": "errors",
    "StateError": "errors",
    "UrlGuardError": "errors",
    "UsageError": "errors",
    "load_activation": "activation",
    "parse_activation": "activation",
    "validator_for": "validate",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'connector' has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
