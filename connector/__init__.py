"""The lean connector: load an activation, render payloads, check them against the contracts,
deliver them, and certify the whole chain against the mock.

The core (``activation``, ``render``, ``validate``, delivery) never imports ``mock_qualtrics``;
only certification, the pytest plugin and the CLI do.
"""

from __future__ import annotations

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
