"""The delivery package exports exactly what we mean to."""

from __future__ import annotations

import importlib

import connector.delivery as delivery

send = importlib.import_module("connector.cli.send")


def test_delivery_all() -> None:
    """The public surface: deliver, its report, and the building blocks."""
    assert sorted(delivery.__all__) == sorted(
        [
            "RETRY_POLICIES",
            "Alert",
            "Attempt",
            "Backoff",
            "DeadLetter",
            "DeliveryOptions",
            "DeliveryReport",
            "Outbox",
            "QualtricsBasicAuth",
            "Schedule",
            "Sender",
            "TokenBucket",
            "Verdict",
            "check_url",
            "classify",
            "deliver",
            "destination_key",
            "make_client",
            "parse_retry_after",
            "post_event",
        ]
    )
    for name in delivery.__all__:
        assert hasattr(delivery, name)


def test_cli_exports() -> None:
    """The CLI module exports the two click commands under their command names."""
    assert send.send.name == "send"
    assert send.test_destination.name == "test-destination"
    assert set(send.__all__) == {"DEFAULT_STATE_DIR", "send", "test_destination"}
