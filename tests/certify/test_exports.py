"""The certification package's public surface."""

from __future__ import annotations

import connector.certify
import connector.strategies


def test_certify_exports() -> None:
    assert connector.certify.__all__ == [
        "CHECK_NAMES",
        "DEFAULT_EXAMPLES",
        "Certification",
        "CheckResult",
        "certify",
    ]
    assert connector.certify.CHECK_NAMES[0] == "activation.load"
    assert len(connector.certify.CHECK_NAMES) == 12


def test_strategies_exports() -> None:
    assert sorted(connector.strategies.__all__) == [
        "emails",
        "identity_ids",
        "live_values",
        "number_texts",
        "payloads",
        "profiles",
        "text_values",
        "timestamps",
    ]
    assert "from connector.strategies import profiles" in (connector.strategies.__doc__ or "")
