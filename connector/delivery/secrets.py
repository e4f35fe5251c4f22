"""The API token: where it comes from, and scrubbing it out of text that came from elsewhere.

The token is read only from the environment variable the activation names (never a flag, which
``ps`` would show, never a file in the repository): ``read_token``. ``redact_url`` covers URLs we
print; ``scrub`` covers text we did not write: a destination may echo the token or the
``urlTokenId`` back in an error body, which then must not reach a dead letter, the report or the
terminal.
"""

from __future__ import annotations

import contextlib
import os
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from ..errors import SecretError
from ..model import Activation
from ..redact import REDACTED

__all__ = ["read_token", "scrub", "secret_values"]

_SECRET_PARAMS: Final = frozenset({"urltokenid", "triggerid", "token", "apitoken", "api_token"})


def read_token(activation: Activation) -> str:
    """The token from the variable ``destination.api_token_env`` names; ``SecretError`` if unset."""
    name = activation.destination.api_token_env
    token = os.environ.get(name, "")
    if not token.strip():
        state = "empty" if name in os.environ else "unset"
        raise SecretError(
            f"the environment variable {name} is {state}; {activation.source}'s "
            f"destination.api_token_env names it as the source of the Qualtrics API token "
            f"(export {name}=... before sending)"
        )
    return token


def secret_values(url: str, token: str) -> tuple[str, ...]:
    """The strings to keep out of anything readable: the token and the URL's secret values."""
    values = [token] if token else []
    with contextlib.suppress(ValueError):
        for key, value in parse_qsl(urlsplit(url).query):
            if key.lower() in _SECRET_PARAMS and value:
                values.append(value)
    return tuple(values)


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***``."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text
