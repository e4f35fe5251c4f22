"""Qualtrics' Basic auth as a tiny ``httpx.Auth``: ``base64(username:apitoken)``.

The token lives only inside this object: its ``repr`` hides it, and the header is built per
request so that nothing else (the client, the sender, a traceback's locals) needs to hold it.
"""

from __future__ import annotations

import base64
from collections.abc import Generator

import httpx

__all__ = ["QualtricsBasicAuth"]


class QualtricsBasicAuth(httpx.Auth):
    """``Authorization: Basic base64(username:token)`` on every request."""

    __slots__ = ("_header", "username")

    def __init__(self, username: str, token: str) -> None:
        self.username = username
        credentials = f"{username}:{token}".encode()
        self._header = "Basic " + base64.b64encode(credentials).decode("ascii")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        return f"QualtricsBasicAuth(username={self.username!r}, token='***')"
