"""When a value arrived unchanged: strings byte for byte, numbers as the same exact number.

JSON leaves a number's spelling to the writer: ``1.0E10`` (Java) and ``10000000000.0`` (Python)
are one value, and a sender may re-encode the body as it likes. What it may not do is change the
value: ``9007199254740993`` read into a double comes back as ``9007199254740992``, one off. So a
number is compared as the exact decimal its text denotes. A double the feed wrote in Java's form
(``4.9E-324``) also matches any text that denotes the same double (``5e-324``, which Python's
``repr`` writes for it): a sender that reads doubles into doubles keeps the value AEP held.
A double that underflows or overflows (``1E-400``, ``1e400``) gets no such latitude.
With ``byte_exact`` the text must be the same too.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from ... import exactjson

__all__ = ["same_value"]


def same_value(sent: Any, received: Any, *, byte_exact: bool) -> bool:
    """Whether ``received`` (parsed with ``exactjson``) is ``sent`` unchanged (see the module doc)."""
    sent_text = exactjson.number_text(sent)
    if sent_text is None:  # a string, a boolean, null or an empty container: the very same
        return type(sent) is type(received) and bool(sent == received)
    received_text = exactjson.number_text(received)
    if received_text is None or byte_exact:  # not a number at all, or the spelling counts too
        return sent_text == received_text
    if Decimal(sent_text) == Decimal(received_text):  # JSON number texts: Decimal reads them all
        return True
    return _is_double(sent_text) and float(sent_text) == float(received_text)


def _is_double(text: str) -> bool:
    """Written as a double (a fraction or an exponent) that one finite double holds exactly
    enough: not ``1e400`` (infinity) nor ``1E-400`` (zero, though it is not)."""
    value = float(text)
    return (
        exactjson.ExactNumber(text).is_fractional
        and math.isfinite(value)
        and (value != 0 or Decimal(text) == 0)
    )
