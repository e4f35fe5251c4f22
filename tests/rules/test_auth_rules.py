"""The mock's trigger authentication and lockout, with exact oracles.

Qualtrics accepts ``X-API-TOKEN: <token>`` or ``Authorization: Basic base64(user:token)``
(https://api.qualtrics.com/ZG9jOjg3NjYzMg-api-key-authentication). The lockout (10 failures in
60 s lock a client out for 5 minutes) is the mock's assumption; its numbers come from the
config, so here they are passed in.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_qualtrics.auth import Lockout, UserRegistry
from mock_qualtrics.workflows import User, token_digest


def basic(user: str, token: str) -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{token}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def registry(*users: tuple[str, str]) -> UserRegistry:
    found = UserRegistry()
    for name, token in users:
        found.put(User(name, token_digest(token)))
    return found


ALICE = ("alice", "tok-alice")


def test_api_token_header_proves_its_user() -> None:
    """``X-API-TOKEN`` alone names the user whose token it is."""
    user, why = registry(ALICE, ("bob", "tok-bob")).authenticate({"X-API-TOKEN": "tok-bob"})
    assert (user.username if user else None, why) == ("bob", "")


def test_a_wrong_api_token_is_refused_even_with_good_basic() -> None:
    """A present X-API-TOKEN decides alone: a wrong one fails, whatever else is sent."""
    headers = {"X-API-TOKEN": "nope", **basic(*ALICE)}
    assert registry(ALICE).authenticate(headers) == (None, "the API token is not valid")


@pytest.mark.parametrize("scheme", ["Basic", "basic", "BASIC"])
def test_basic_user_and_token_prove_the_user(scheme: str) -> None:
    """Basic is matched case-insensitively, as HTTP schemes are."""
    raw = base64.b64encode(b"alice:tok-alice").decode()
    user, why = registry(ALICE).authenticate({"Authorization": f"{scheme} {raw}"})
    assert user == User("alice", token_digest("tok-alice"))
    assert why == ""


def test_bearer_with_basic_credentials_is_refused() -> None:
    """``Bearer <base64 user:token>`` is not Basic: no credentials."""
    raw = base64.b64encode(b"alice:tok-alice").decode()
    assert registry(ALICE).authenticate({"Authorization": f"Bearer {raw}"}) == (
        None,
        "no credentials: send X-API-TOKEN or Basic username:apitoken",
    )


@pytest.mark.parametrize("header", [None, "", "Basic", "Basic ", "Basic    "])
def test_missing_credentials_say_what_to_send(header: str | None) -> None:
    """No header, or Basic without a value, is ``no credentials`` with what to send instead."""
    headers = {} if header is None else {"Authorization": header}
    assert registry(ALICE).authenticate(headers) == (
        None,
        "no credentials: send X-API-TOKEN or Basic username:apitoken",
    )


@pytest.mark.parametrize(
    "value",
    ["!!!", base64.b64encode(b"no-colon").decode(), base64.b64encode(b"\xff\xfe:x").decode()],
)
def test_malformed_basic_is_named(value: str) -> None:
    """Not base64, no colon, or not UTF-8: ``malformed Basic credentials``."""
    assert registry(ALICE).authenticate({"Authorization": f"Basic {value}"}) == (
        None,
        "malformed Basic credentials",
    )


@given(st.text(min_size=1, max_size=12).filter(lambda t: ":" not in t), st.text(max_size=12))
def test_a_token_containing_colons_is_split_at_the_first(user: str, token: str) -> None:
    """``user:pa:ss`` is user ``user`` with token ``pa:ss`` (the first colon separates)."""
    full = f"x:{token}:y"
    found = registry((user, full))
    assert found.authenticate(basic(user, full))[0] == User(user, token_digest(full))
    assert found.authenticate(basic(user, token))[0] is None


@pytest.mark.parametrize(
    "headers",
    [basic("alice", "wrong"), basic("mallory", "tok-alice"), basic("", "tok-alice")],
)
def test_wrong_user_or_token_is_one_message(headers: dict[str, str]) -> None:
    """A wrong token and an unknown user read the same, so names cannot be probed."""
    assert registry(ALICE).authenticate(headers) == (None, "wrong user name or API token")


def test_reputting_a_user_revokes_the_old_token() -> None:
    """A user put again with a new token: the new one works, the old one works no more."""
    found = registry(ALICE)
    found.put(User("alice", token_digest("tok-new")))
    assert found.authenticate({"X-API-TOKEN": "tok-alice"}) == (None, "the API token is not valid")
    assert found.authenticate(basic("alice", "tok-alice"))[0] is None
    assert found.authenticate({"X-API-TOKEN": "tok-new"})[0] == User(
        "alice", token_digest("tok-new")
    )
    assert found.names() == ["alice"]


def test_clear_and_names() -> None:
    """``names`` is sorted; ``clear`` forgets every user and token."""
    found = registry(("bob", "b"), ALICE)
    assert found.names() == ["alice", "bob"]
    found.clear()
    assert found.names() == []
    assert found.authenticate({"X-API-TOKEN": "b"})[0] is None


@given(st.integers(1, 20), st.integers(1, 600), st.integers(1, 900))
def test_lockout_after_exactly_n_failures_for_exactly_the_duration(
    failures: int, window: int, duration: int
) -> None:
    """n-1 failures leave a client free; the n-th locks it for ``duration``, to the second."""
    lockout = Lockout(failures, window, duration)
    for _ in range(failures - 1):
        lockout.record_failure("c", now=100.0)
    assert lockout.locked_for("c", now=100.0) == 0.0
    lockout.record_failure("c", now=100.0)
    assert lockout.locked_for("c", now=100.0) == duration
    assert lockout.locked_for("c", now=100.0 + duration / 2) == duration / 2
    assert lockout.locked_for("c", now=100.0 + duration) == 0.0


def test_lockout_is_per_client() -> None:
    """Failures from one address never lock out another."""
    lockout = Lockout(3, 60.0, 300.0)
    for _ in range(3):
        lockout.record_failure("10.0.0.1", now=0.0)
    lockout.record_failure("10.0.0.2", now=0.0)
    lockout.record_failure("10.0.0.2", now=0.0)
    assert lockout.locked_for("10.0.0.1", now=1.0) == 299.0
    assert lockout.locked_for("10.0.0.2", now=1.0) == 0.0


def test_failures_older_than_the_window_do_not_count() -> None:
    """A failure exactly ``window`` seconds old has expired; one just inside still counts."""
    lockout = Lockout(2, 60.0, 300.0)
    lockout.record_failure("c", now=0.0)
    lockout.record_failure("c", now=60.0)
    assert lockout.locked_for("c", now=60.0) == 0.0
    lockout.record_failure("c", now=119.5)
    assert lockout.locked_for("c", now=119.5) == 300.0


def test_failures_count_again_from_zero_after_a_lockout() -> None:
    """A lockout clears the failure count: after it ends, n more failures are needed."""
    lockout = Lockout(2, 60.0, 10.0)
    lockout.record_failure("c", now=0.0)
    lockout.record_failure("c", now=0.0)
    lockout.record_failure("c", now=11.0)
    assert lockout.locked_for("c", now=11.0) == 0.0


def test_clear_lifts_every_lockout() -> None:
    """``clear`` forgets failures and lockouts."""
    lockout = Lockout(1, 60.0, 300.0)
    lockout.record_failure("c", now=0.0)
    lockout.clear()
    assert lockout.locked_for("c", now=0.0) == 0.0
    lockout.record_failure("d", now=0.0)
    assert lockout.locked_for("d", now=0.0) == 300.0


def test_the_real_clock_is_used_without_now() -> None:
    """Without ``now``, the monotonic clock decides: a fresh lockout has nearly all its time."""
    lockout = Lockout(1, 60.0, 300.0)
    lockout.record_failure("c")
    assert 299.0 < lockout.locked_for("c") <= 300.0


def test_basic_with_characters_outside_base64_is_malformed() -> None:
    """Base64 is decoded strictly: junk inside the value is not skipped into a valid login."""
    raw = base64.b64encode(b"alice:tok-alice").decode()
    assert registry(ALICE).authenticate({"Authorization": f"Basic {raw[:4]}!{raw[4:]}"}) == (
        None,
        "malformed Basic credentials",
    )
