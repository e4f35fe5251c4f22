"""Helpers for the certification tests: renderers broken on purpose."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from connector.activation import Activation
from connector.render import Payload, Renderer, dumps

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


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
