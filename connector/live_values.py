"""The JSON values an AEP export carries for an attribute, by its XDM type.

A sender is only as well tested as the values it is fed: one that parses numbers into doubles
(JavaScript's ``JSON.parse``) or trims strings passes every check on plain short strings, and
breaks live. AEP exports what its XDM schema holds, written by a Java JSON writer:

- ``string``: any unicode (right-to-left, emoji, combining marks), whitespace at the edges, and
  values up to ~100 KB;
- ``integer``: XDM's ``long`` is 64-bit, so values beyond 2^53 (where a double loses digits);
- ``number``: a double, as Java's ``Double.toString`` writes it (``100.0``, ``1.0E10``,
  ``4.9E-324``, ``-0.0``);
- ``boolean``, ``object`` and ``array`` (of any of these), ``date`` (``2024-02-29``) and
  ``date-time`` (ISO 8601, as AEP writes it).

An attribute without a type may hold any of them. :func:`showcase` lists, per type, the values
every feed must include (each hard for some sender); numbers come parsed as the profile reader
hands them over (``exactjson``: a number a machine type would write back differently is an
``ExactNumber`` carrying its text). ``strict_numbers`` adds numbers no XDM type holds (1,000-digit
integers, ``1e400``, ``1.50``), for senders that promise to carry any JSON number.

:func:`conforms` is the rule ``render`` applies to a typed attribute: AEP validates every record
against its XDM schema at ingestion, so a value of another type never reaches a destination.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

from contracts.facts import LIMITS

from . import exactjson

__all__ = [
    "LONG_STRING_BYTES",
    "XDM_TYPES",
    "conforms",
    "java_double",
    "json_type",
    "showcase",
]

#: The XDM types an ``[[attributes]]`` mapping may declare.
XDM_TYPES: Final = (
    "string",
    "integer",
    "number",
    "boolean",
    "object",
    "array",
    "date",
    "date-time",
)
#: The longest string value fed: with the rest of a payload it stays under the body limit.
LONG_STRING_BYTES: Final = LIMITS.body_bytes - 2_400  # 2,400 bytes left for the rest

_DATE: Final = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_DATE_TIME: Final = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)"
    r"(\.\d{1,9})?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)$"
)

_STRINGS: Final = (
    "Zoë Ørsted",
    " Dave",  # whitespace at the edges: a trimming sender changes these
    "Ana ",
    "\tmulti\nline\r\n",
    "محمد بن سلمان",  # right to left
    "שלום \u200f!",
    "😀 👩\u200d👩\u200d👧 🇫🇷",
    "e\u0301 名前 김 Ἀθῆναι",
    'quote " backslash \\ slash / </script>',
    "",
)
#: 64-bit integers: 2^53 + 1 is the first a double cannot hold.
_INTEGERS: Final = (
    "9007199254740993",
    "-9007199254740993",
    "9223372036854775807",
    "-9223372036854775808",
    "0",
    "42",
)
#: Doubles as Java's ``Double.toString`` writes them.
_DOUBLES: Final = (
    "100.0",
    "1.0E10",
    "4.9E-324",
    "-0.0",
    "0.1",
    "1.7976931348623157E308",
    "2.2250738585072014E-308",
    "1.0E-5",
    "-123.456",
    "9.007199254740992E15",
)
#: Numbers no XDM type holds: only with ``strict_numbers``.
_STRICT_NUMBERS: Final = ("1" + "234567890" * 111 + "1", "1e400", "1.50", "-0", "1E-400")
_DATES: Final = ("2024-02-29", "1970-01-01", "2099-12-31")
_DATE_TIMES: Final = ("2024-02-29T23:59:59.999Z", "2021-10-26T17:41:55.947+0000",
                      "2021-06-30T18:40:07.591378Z")  # fmt: skip


def _numbers(texts: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(exactjson.loads(text) for text in texts)


def _long_string() -> str:
    """~100 KB, ASCII but for its ends: a sender that escapes non-ASCII (``\\u00e9``) still fits
    the body limit (``contracts.facts.LIMITS.body_bytes``), as the value would live."""
    chunk = "lorem ipsum "
    body = chunk * ((LONG_STRING_BYTES - 8) // len(chunk))
    return f"é {body}😀"


def showcase(xdm_type: str | None, *, strict_numbers: bool = False) -> tuple[Any, ...]:
    """The values every feed of an attribute of ``xdm_type`` (``None``: any) must include."""
    integers = _numbers(_INTEGERS)
    doubles = _numbers(_DOUBLES)
    strict = _numbers(_STRICT_NUMBERS) if strict_numbers else ()
    strings = (_STRINGS[0], _long_string(), *_STRINGS[1:])  # the long one early: feeds are short
    scalars: dict[str, tuple[Any, ...]] = {
        "string": strings,
        # Asked-for numbers first: a short feed must still hold them.
        "integer": (*(n for n in strict if json_type(n) == "integer"), *integers),
        "number": (*strict, *doubles, *integers[:2]),
        "boolean": (True, False),
        "date": _DATES,
        "date-time": _DATE_TIMES,
    }
    containers: dict[str, tuple[Any, ...]] = {
        "array": (
            [integers[0], doubles[1], " a ", True],
            ["gold", "silver"],
            [{"sku": "A-1", "price": doubles[0]}],
            [],
        ),
        "object": (
            {"tier": "gold ", "points": integers[0], "ratio": doubles[2], "active": True},
            {"nested": {"deeper": ["x", integers[2]]}},
            {},
        ),
    }
    if xdm_type is None:
        every = [*scalars.values(), *containers.values()]
        # Interleaved, so that a short feed still meets every type early.
        longest = max(len(values) for values in every)
        return tuple(v for i in range(longest) for values in every for v in values[i : i + 1])
    return {**scalars, **containers}[xdm_type]


def java_double(value: float) -> str:
    """``value`` as Java's ``Double.toString`` writes it: ``100.0``, ``1.0E10``, ``4.9E-324``.

    Java writes plain decimals for 10^-3 <= |x| < 10^7, else ``d.dddE±n``; always a digit after
    the point. The digits are the shortest that round-trip (Python's ``repr``), as JDK 19+ does.
    """
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{value!r} is not a JSON number")
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    digits, exponent = _shortest(abs(value))
    if 1e-3 <= abs(value) < 1e7:
        point = exponent + 1
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        whole = digits[:point].ljust(point, "0")
        fraction = digits[point:] or "0"
        return f"{sign}{whole}.{fraction}"
    fraction = digits[1:] or "0"
    return f"{sign}{digits[0]}.{fraction}E{exponent}"


def _shortest(value: float) -> tuple[str, int]:
    """(significant digits, decimal exponent of the first) of ``repr(value)``."""
    text = repr(value)
    if "e" in text:
        mantissa, _, exp = text.partition("e")
        digits = mantissa.replace(".", "").rstrip("0") or "0"
        return digits, int(exp)
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    if whole != "0":
        return (whole + fraction).rstrip("0") or "0", len(whole) - 1
    stripped = fraction.lstrip("0")
    return stripped.rstrip("0"), -(len(fraction) - len(stripped)) - 1


def json_type(value: Any) -> str:
    """The JSON type of a parsed value, as messages name it (``integer`` for ``42``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, exactjson.ExactNumber):
        return "number" if value.is_fractional else "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def conforms(value: Any, xdm_type: str) -> bool:
    """Whether ``value`` (parsed JSON) is one XDM type ``xdm_type`` holds (see the module doc)."""
    kind = json_type(value)
    if xdm_type == "number":
        return kind in ("integer", "number")
    if xdm_type == "date":
        return kind == "string" and _DATE.fullmatch(value) is not None
    if xdm_type == "date-time":
        return kind == "string" and _DATE_TIME.fullmatch(value) is not None
    return kind == xdm_type
