"""Every command that talks to a mock names the fix when the mock wants its admin token:
the variable ``$QHARNESS_MOCK_ADMIN_TOKEN`` and the flag ``--admin-token-env`` that names another."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.cli import qharness_text

from mock_qualtrics import LiveMock

ADMIN_TOKEN = "admin-token-errors-0123456789"


@pytest.fixture(scope="module")
def guarded() -> Iterator[str]:
    with LiveMock({"ADMIN_TOKEN": ADMIN_TOKEN}) as live:
        yield live.url


def _commands(url: str) -> list[list[str]]:
    return [["runs", "--mock", url], ["certify", "--mock", url, "--examples", "5"]]


@pytest.mark.parametrize("which", [0, 1], ids=["runs", "certify"])
@pytest.mark.parametrize(
    ("token", "state"),
    [(None, "is not set"), ("wrong-token-0123456789", "is set but the mock refused it")],
)
def test_a_refused_admin_call_names_the_variable_and_the_flag(
    guarded: str, which: int, token: str | None, state: str
) -> None:
    """Exit 2, one line: the variable's state, how to set it, and --admin-token-env."""
    code, _, err = qharness_text(
        *_commands(guarded)[which], env={"QHARNESS_MOCK_ADMIN_TOKEN": token}
    )
    assert code == 2
    [line] = err.strip().splitlines()
    assert f"$QHARNESS_MOCK_ADMIN_TOKEN {state}: export QHARNESS_MOCK_ADMIN_TOKEN=" in line
    assert "--admin-token-env NAME" in line
    assert ADMIN_TOKEN not in line
    if token is not None:
        assert token not in line


def test_admin_token_env_names_another_variable(guarded: str) -> None:
    """--admin-token-env MY_TOKEN reads the token there; the fix then names MY_TOKEN."""
    env = {"QHARNESS_MOCK_ADMIN_TOKEN": None, "MY_TOKEN": ADMIN_TOKEN}
    code, out, err = qharness_text(
        "runs", "--mock", guarded, "--admin-token-env", "MY_TOKEN", env=env
    )
    assert (code, out.strip()) == (0, "no runs"), err
    code, _, err = qharness_text(
        "runs", "--mock", guarded, "--admin-token-env", "OTHER_TOKEN", env={"OTHER_TOKEN": None}
    )
    assert code == 2
    assert "$OTHER_TOKEN is not set: export OTHER_TOKEN=" in err
