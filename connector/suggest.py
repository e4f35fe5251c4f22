""" "Did you mean ...?": the closest known name to a misspelled one.

A misspelled key (``user_name``, ``[[audience]]``) otherwise surfaces only as the required key it
should have been, "missing", which sends the reader looking in the wrong place. ``did_you_mean``
compares names the way people misspell them: case, ``_`` and ``-`` aside, then by similarity
(``difflib``, the standard library's edit-distance ratio), or as a name spelled out or cut
short (one starts the other).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Final

__all__ = ["did_you_mean"]

#: How similar (0..1, difflib's ratio) a known name must be to count as the one meant.
CUTOFF: Final = 0.75
#: A known name that starts a longer one (or the reverse) counts when it has this many letters.
MIN_PREFIX: Final = 6


def did_you_mean(word: str, known: Iterable[str]) -> str | None:
    """The known name ``word`` most probably meant, or ``None`` when none is close."""
    by_shape = {_shape(name): name for name in known}
    if _shape(word) in by_shape:
        return by_shape[_shape(word)]
    close = difflib.get_close_matches(_shape(word), list(by_shape), n=1, cutoff=CUTOFF)
    if close:
        return by_shape[close[0]]
    # A name spelled out or cut short (``api_token_environment`` for ``api_token_env``).
    shape = _shape(word)
    stretched = [
        name
        for known_shape, name in by_shape.items()
        if min(len(shape), len(known_shape)) >= MIN_PREFIX
        and (shape.startswith(known_shape) or known_shape.startswith(shape))
    ]
    return stretched[0] if len(stretched) == 1 else None


def _shape(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")
