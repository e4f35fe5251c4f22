"""redact_url: the workflow's urlTokenId (or triggerId) and userinfo never survive redaction."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from connector.redact import redact_url

SECRET = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=12, max_size=40)
JUNK = st.text(max_size=30)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://iad1.qualtrics.com/inbound-event/v1/events/json/triggers?urlTokenId=5f1c3a52&x=1",
            "https://iad1.qualtrics.com/inbound-event/v1/events/json/triggers?urlTokenId=***&x=1",
        ),
        (
            "https://acme.fra1.qualtrics.com/inbound-event/v1/events/JSON/triggers?contextId=c&triggerId=OC_1",
            "https://acme.fra1.qualtrics.com/inbound-event/v1/events/JSON/triggers?contextId=c&triggerId=***",
        ),
        ("https://user:pass@iad1.qualtrics.com/x", "https://***@iad1.qualtrics.com/x"),
    ],
)
def test_known_shapes(url: str, expected: str) -> None:
    """Both Qualtrics URL shapes, and userinfo."""
    assert redact_url(url) == expected


@given(
    prefix=JUNK,
    secret=SECRET,
    suffix=JUNK,
    name=st.sampled_from(["urlTokenId", "URLTOKENID", "triggerId"]),
)
def test_secret_never_survives(prefix: str, secret: str, name: str, suffix: str) -> None:
    """Whatever surrounds it (found by fuzzing: a NUL and a second '?' before the key)."""
    assume(secret not in prefix + suffix)
    url = f"https://iad1.qualtrics.com/{prefix}?{prefix}{name}={secret}{suffix}"
    assert secret not in redact_url(url)
