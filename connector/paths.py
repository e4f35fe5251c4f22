"""Dotted paths (``person.name.firstName``) and JSON paths (``$.identityMap.Email[0].id``).

Mappings name fields with dotted paths, the way AEP's mapping UI and Qualtrics' JSON Event fields
do; errors point into documents with JSON paths, the way JSON Schema tools do. Both live here so
that every message in the harness spells a location the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from contracts.facts import IDENTIFIER

__all__ = ["MISSING", "get_path", "json_path", "set_path", "split_path"]


class _Missing:
    """The absence of a value (``None`` is JSON ``null``, which is a value)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()

_IDENTIFIER = IDENTIFIER


def split_path(dotted: str) -> tuple[str, ...]:
    """``"a.b.c"`` -> ``("a", "b", "c")``."""
    return tuple(dotted.split("."))


def get_path(document: Any, keys: Iterable[str]) -> Any:
    """The value at ``keys`` in nested objects, or ``MISSING`` if any step is absent."""
    node = document
    for key in keys:
        if not isinstance(node, dict):  # JSON objects are dicts; an ABC check costs 3x more
            return MISSING
        node = node.get(key, MISSING)
        if node is MISSING:
            return MISSING
    return node


def set_path(document: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    """Place ``value`` at ``keys``, creating the intermediate objects."""
    node = document
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[keys[-1]] = value


def json_path(elements: Iterable[str | int]) -> str:
    """``["identityMap", "Email", 0, "id"]`` -> ``"$.identityMap.Email[0].id"``."""
    out = ["$"]
    for element in elements:
        if isinstance(element, int):
            out.append(f"[{element}]")
        elif _IDENTIFIER.match(element):
            out.append(f".{element}")
        else:
            escaped = element.replace("\\", "\\\\").replace("'", "\\'")
            out.append(f"['{escaped}']")
    return "".join(out)
