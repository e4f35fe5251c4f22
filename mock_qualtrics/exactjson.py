"""JSON that keeps every number exactly as it was written.

Any valid JSON is a valid event, and a run must show the sender's values unchanged. orjson (the
mock's fast path elsewhere) cannot promise that for numbers: 3.13 refuses ``1e400`` ("number is
infinity when parsed as double"), turns integers past 64 bits into floats, and writes ``1.50``
back as ``1.5`` and ``-0`` as ``0``. So the body is parsed with the standard library's decoder
(measured: 4 us for a typical event against orjson's 1.6 us) with number hooks that keep the text:

- an integer whose text ``int`` writes back the same way stays a plain ``int``;
- any other number becomes a :class:`JsonInt` or :class:`JsonFloat`, an ``int``/``float`` subclass
  that compares as a number (JSONPath filters keep working) and carries its original text.

:func:`dumps` writes these back through ``orjson.Fragment`` (orjson >= 3.9), which embeds
pre-serialized JSON text, so the text that came in is the text that goes out.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

__all__ = ["JsonFloat", "JsonInt", "dumps", "loads"]


class JsonInt(int):
    """An integer that keeps its JSON text (past 64 bits, or written like ``-0``)."""

    text: str  # an int subclass cannot have __slots__ with names; this one has a __dict__


class JsonFloat(float):
    """A number with a fraction or exponent that keeps its JSON text (``1.50``, ``1e400``)."""

    __slots__ = ("text",)
    text: str


_INT64 = (-(2**63), 2**64 - 1)  # orjson writes these natively
_MAX_INT_DIGITS = 4_000  # int(text) refuses more than 4,300 digits (sys.get_int_max_str_digits)


def _int(text: str) -> int:
    if len(text) > _MAX_INT_DIGITS:  # past Python's int-from-text limit: keep it as a float
        return _float(text)  # type: ignore[return-value]
    value = int(text)
    if _INT64[0] <= value <= _INT64[1] and str(value) == text:
        return value
    number = JsonInt(value)
    number.text = text
    return number


def _float(text: str) -> float:
    number = JsonFloat(text)
    number.text = text
    return number


def _constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


_DECODER = json.JSONDecoder(parse_int=_int, parse_float=_float, parse_constant=_constant)
_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def loads(body: bytes) -> Any:
    """Parse UTF-8 JSON text, numbers kept exact; ``ValueError`` when it is not JSON.

    Escaped lone surrogates (``"\\ud800"``) are refused like orjson refuses them: no UTF-8 text
    can carry them, so a run could not show them.
    """
    text = body.decode("utf-8")  # UnicodeDecodeError is a ValueError
    document = _DECODER.decode(text)
    if _MAYBE_SURROGATE.search(text) and _has_surrogate(document):
        raise ValueError("a string holds a lone surrogate")
    return document


def _has_surrogate(document: Any) -> bool:
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(node, dict):
            stack.extend(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _default(value: Any) -> Any:
    if isinstance(value, JsonInt | JsonFloat):
        return orjson.Fragment(value.text)
    if isinstance(value, int):  # other int subclasses (bool is not passed through)
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: Any, option: int = 0) -> bytes:
    """``value`` as JSON bytes, every :class:`JsonInt`/:class:`JsonFloat` as its original text."""
    return orjson.dumps(value, default=_default, option=option | orjson.OPT_PASSTHROUGH_SUBCLASS)
