"""Input errors are not exclusions: the lines of PROFILES that are not JSON objects.

An exclusion is a policy decision about a good profile (a hashed email, no consent); a line that
is not JSON, or JSON but not an object, is a mistake in the input, and a whole file of them (a
CSV, a pretty-printed JSON array) is not JSON Lines at all. ``CheckedLines`` passes every line on
to the sender unchanged (which counts it), says on stderr what is wrong with each bad one, in
``render``'s words (``line N: invalid-profile: $: ...``), and can tell afterwards whether any line
was a JSON object.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import IO

from ..errors import UsageError
from ..profiles import ProfileLine

__all__ = ["CheckedLines", "input_size"]


def input_size(stream: IO[bytes]) -> int | None:
    """The size in bytes of a regular file, ``None`` for a pipe, a terminal or stdin."""
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return None
    return status.st_size if status.st_mode & 0o170000 == 0o100000 and status.st_size else None


class CheckedLines:
    """Iterates ``lines``, reporting each one that is not a JSON object through ``on_error``."""

    def __init__(
        self,
        lines: Iterable[ProfileLine],
        stream: IO[bytes],
        *,
        on_error: Callable[[str], None],
    ) -> None:
        self._lines = lines
        self._stream = stream
        self._on_error = on_error
        self.on_position: Callable[[int], None] | None = None
        self.objects = 0
        self.errors = 0
        self.first_error: str | None = None

    def __iter__(self) -> Iterator[ProfileLine]:
        for line in self._lines:
            problem = _problem(line)
            if problem is None:
                self.objects += 1
            else:
                self.errors += 1
                message = f"line {line.number}: invalid-profile: $: {problem}"
                self.first_error = self.first_error or message
                self._on_error(message)
            if self.on_position is not None:
                self._tell()
            yield line

    def raise_if_not_json_lines(self, name: str) -> None:
        """``UsageError`` (exit 2) when lines were read and none was a JSON object."""
        if self.errors and not self.objects:
            label = "stdin" if name == "-" else name
            lines = (
                "its only line is not"
                if self.errors == 1
                else f"none of its {self.errors} lines is"
            )
            raise UsageError(
                f"{label}: not JSON Lines (one JSON object per line): {lines} a JSON object "
                f"({self.first_error})"
            )

    def _tell(self) -> None:
        try:
            position = self._stream.tell()
        except (OSError, ValueError):
            self.on_position = None
            return
        if self.on_position is not None:
            self.on_position(position)


def _problem(line: ProfileLine) -> str | None:
    if line.error is not None:
        return line.error
    if not isinstance(line.profile, dict):
        kind = "null" if line.profile is None else type(line.profile).__name__
        return f"expected a JSON object, got {kind}"
    return None
