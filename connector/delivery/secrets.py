"""Scrubbing secrets out of text that came from elsewhere (a response body, an error message).

``redact_url`` covers URLs we print; this covers text we did not write: a destination may echo the
token or the ``urlTokenId`` back in an error body, which then must not reach a dead letter, the
report or the terminal.
"""

from __future__ import annotations

import contextlib
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from ..redact import REDACTED

__all__ = ["scrub", "secret_values"]

_SECRET_PARAMS: Final = frozenset({"urltokenid", "triggerid", "token", "apitoken", "api_token"})


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
