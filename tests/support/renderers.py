"""Renderers broken on purpose, to show that a check (or render's own contract check) catches them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connector.activation import Activation
from connector.render import Payload, Renderer, dumps

__all__ = ["doctored"]


def doctored(
    change: Callable[[dict[str, Any]], dict[str, Any]],
) -> Callable[[Activation], Renderer]:
    """A renderer factory whose payloads pass through ``change`` (body rebuilt to match)."""

    class Doctored(Renderer):
        def build(self, profile: Any) -> Any:
            result = super().build(profile)
            if isinstance(result, Payload):
                document = change(result.document)
                return Payload(document, dumps(document), result.identity, result.dedup_keys)
            return result

    return Doctored
