""" "Did you mean ...?": the closest known name to a misspelled one.

A misspelled key (``user_name``, ``[[audience]]``) otherwise surfaces only as the required key it
should have been, "missing", which sends the reader looking in the wrong place. ``did_you_mean``
compares names the way people misspell them: case, ``_`` and ``-`` aside, then by similarity
(``difflib``, the standard library's edit-distance ratio).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Final

__all__ = ["did_you_mean"]

#: How similar (0..1, difflib's ratio) a known name must be to count as the one meant.
CUTOFF: Final = 0.75


def did_you_mean(word: str, known: Iterable[str]) -> str | None:
    """The known name ``word`` most probably meant, or ``None`` when none is close."""
    by_shape = {_shape(name): name for name in known}
    if _shape(word) in by_shape:
        return by_shape[_shape(word)]
    close = difflib.get_close_matches(_shape(word), list(by_shape), n=1, cutoff=CUTOFF)
    return by_shape[close[0]] if close else None


def _shape(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")
