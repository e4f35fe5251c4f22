"""Certification: the proof that an activation's payloads meet the Qualtrics contract and survive
delivery. ``certify(activation)`` runs every stage (activation, Hypothesis properties, workflow
fields, delivery into a mock) and returns a ``Certification`` of named ``CheckResult``s, which
``connector.certify.reports`` turns into JUnit XML, Markdown, HTML and JSON.
"""

from __future__ import annotations

from .checks import CHECK_NAMES, CheckResult
from .runner import DEFAULT_EXAMPLES, Certification, certify

__all__ = ["CHECK_NAMES", "DEFAULT_EXAMPLES", "Certification", "CheckResult", "certify"]
