"""JSON with exact numbers: every number leaves as the text it arrived as.

A profile's ``123456789012345678901234567890``, ``1e400``, ``1.50`` or ``-0`` must reach Qualtrics
byte-exact, or a workflow field reads a different value than AEP holds. orjson (the hot path)
turns integers past 64 bits into floats, refuses ``1e400`` and writes ``1.50`` as ``1.5``; so does
every parser that maps numbers to machine types.

The fast path stays orjson whenever that is lossless: a line that orjson writes back byte for byte,
or a document whose parsed values hold no float and whose text holds no ``-0`` token, cannot have
lost anything (orjson keeps integers within 64 bits exactly and floats everything else). Any other
line is parsed again with the stdlib parser, whose hooks see each number's text: a number orjson would write back differently becomes an
:class:`ExactNumber` carrying that text, and :func:`dumps` writes it back with ``orjson.Fragment``.

Validators (jsonschema-rs) know nothing of ``ExactNumber``; :func:`plain` gives them a stand-in
document where each one is an ``int`` or ``float`` of the same JSON type and sign. The contracts
constrain types, never magnitudes, so the answer is the same.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any, Final

import orjson

__all__ = [
    "ExactNumber",
    "contains_exact",
    "dumps",
    "fragment",
    "loads",
    "number_text",
    "plain",
]

_I64_MIN: Final = -(2**63)
_U64_MAX: Final = 2**64 - 1
#: ``-0`` as a whole number token (after ``:``, ``[`` or ``,``): orjson reads it as ``0``. A match
#: inside a string only costs the slower parse; ``-0.5`` and ``-0e1`` are floats, found anyway.
_NEGATIVE_ZERO: Final = re.compile(rb"(?:^|[:\[,])\s*-0(?![0-9.eE])")
#: A ``\\uD800``-``\\uDFFF`` escape: only then can the stdlib parse yield a lone surrogate.
_SURROGATE_ESCAPE: Final = re.compile(rb"\\u[dD][89a-fA-F]")
_TINY: Final = 5e-324  # the smallest float above zero: a stand-in for an underflowing non-zero


class ExactNumber:
    """A JSON number kept as its text, because no machine type would write it back the same.

    Two are equal when their texts are; ``float(n)`` and ``int(n)`` give the nearest value.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"ExactNumber({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExactNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(("ExactNumber", self.text))

    def __float__(self) -> float:
        return float(self.text)

    def __int__(self) -> int:
        return int(float(self.text)) if self.is_fractional else int(self.text)

    @property
    def is_fractional(self) -> bool:
        """Written with a fraction or an exponent (JSON Schema may still call it an integer)."""
        return any(c in self.text for c in ".eE")

    def stand_in(self) -> int | float:
        """A machine number of the same JSON type and sign, for validators (see the module doc)."""
        if not self.is_fractional:
            if len(self.text) <= 20:  # within 64 bits unless it is -0 or just past the edge
                value = int(self.text)
                if _I64_MIN <= value <= _U64_MAX:
                    return value
            return _I64_MIN if self.text.startswith("-") else _U64_MAX
        value_f = float(self.text)
        if math.isinf(value_f):
            return math.copysign(sys.float_info.max, value_f)
        if value_f == 0.0 and any(c in "123456789" for c in self.text.split("e")[0].split("E")[0]):
            return math.copysign(_TINY, value_f)  # 1e-400 is not zero, nor an integer
        return value_f


def _int_hook(text: str) -> int | ExactNumber:
    if text == "-0" or len(text) > 20:
        return ExactNumber(text)
    value = int(text)
    return value if _I64_MIN <= value <= _U64_MAX else ExactNumber(text)


def _float_hook(text: str) -> float | ExactNumber:
    value = float(text)
    if math.isfinite(value) and orjson.dumps(value) == text.encode():
        return value
    return ExactNumber(text)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _holds(node: Any, wanted: type) -> bool:
    """Whether ``node`` (parsed JSON) holds a value of exactly type ``wanted`` anywhere."""
    kind = type(node)
    if kind is wanted:
        return True
    if kind is dict:
        return any(_holds(value, wanted) for value in node.values())
    if kind is list:
        return any(_holds(value, wanted) for value in node)
    return False


def loads(raw: bytes | str) -> Any:
    """Parse one JSON document, every number kept exact; ``ValueError`` says why it is not JSON."""
    data = raw.encode() if isinstance(raw, str) else raw
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        document = None  # perhaps 1e400 (valid JSON orjson refuses): the stdlib decides below
    else:
        # Written back byte for byte: nothing can have changed (compact exports, the usual case).
        if orjson.dumps(document) == data:
            return document
        if not _holds(document, float) and _NEGATIVE_ZERO.search(data) is None:
            return document
    return _exact_loads(data)


def _exact_loads(data: bytes) -> Any:
    try:
        document = json.loads(
            data,
            parse_int=_int_hook,
            parse_float=_float_hook,
            parse_constant=_reject_constant,
        )
        # stdlib accepts escaped lone surrogates ("\\ud800"), which no UTF-8 body can carry.
        if _SURROGATE_ESCAPE.search(data) is not None:
            dumps(document)
        return document
    except UnicodeEncodeError:
        raise ValueError(
            "not JSON this harness accepts: a string holds a lone UTF-16 surrogate"
        ) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} (column {exc.colno})") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from None
    except RecursionError:
        raise ValueError("not JSON this harness accepts: nested too deeply") from None


def fragment(value: Any) -> Any:
    """orjson's ``default=``: an ``ExactNumber`` (or an int past 64 bits) as its JSON text.

    For callers that need orjson's options (indentation) while keeping numbers exact.
    """
    if isinstance(value, ExactNumber):
        return orjson.Fragment(value.text)
    if type(value) is int:  # past 64 bits, from a Python caller rather than the parser
        return orjson.Fragment(str(value))
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(document: Any) -> bytes:
    """Compact UTF-8 JSON; an ``ExactNumber`` as its text, an int past 64 bits in full.

    A string holding a lone UTF-16 surrogate (possible from a Python caller, never from the
    parser) raises ``UnicodeEncodeError``: it has no UTF-8 form, so no JSON body can carry it.
    """
    try:
        return orjson.dumps(document, default=fragment)
    except orjson.JSONEncodeError as exc:
        if "surrogates" in str(exc):
            raise UnicodeEncodeError("utf-8", "", 0, 1, "a lone UTF-16 surrogate") from None
        if "64-bit" not in str(exc):
            raise
    return dumps(_big_ints_exact(document))


def _big_ints_exact(node: Any) -> Any:
    kind = type(node)
    if kind is int and not _I64_MIN <= node <= _U64_MAX:
        return ExactNumber(str(node))
    if kind is dict:
        return {key: _big_ints_exact(value) for key, value in node.items()}
    if kind is list:
        return [_big_ints_exact(value) for value in node]
    return node


def contains_exact(node: Any) -> bool:
    """Whether ``node`` holds an ``ExactNumber`` anywhere."""
    return _holds(node, ExactNumber)


def plain(node: Any) -> Any:
    """``node`` with every ``ExactNumber`` replaced by its stand-in (for validators)."""
    kind = type(node)
    if kind is ExactNumber:
        return node.stand_in()
    if kind is dict:
        return {key: plain(value) for key, value in node.items()}
    if kind is list:
        return [plain(value) for value in node]
    return node


def number_text(value: Any) -> str | None:
    """The JSON text a number is written as, or ``None`` for anything that is not a number."""
    if isinstance(value, ExactNumber):
        return value.text
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dumps(value).decode()
    return None
