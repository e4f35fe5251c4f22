"""Reading AEP profiles as JSON Lines, as they arrive.

Input is streamed: a line is handed on as soon as it is complete, so ``tail -f export.jsonl |
qharness send ...`` works, and a bad line is reported with its number without stopping the good
ones. Blank lines are skipped but still counted, so line numbers match an editor's.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from . import exactjson
from .errors import UsageError

__all__ = ["ProfileLine", "open_input", "parse_line", "read_profiles"]


@dataclass(frozen=True, slots=True)
class ProfileLine:
    """Line ``number`` of the input: the parsed ``profile``, or ``error`` saying why not."""

    number: int
    profile: Any = None
    error: str | None = None


def parse_line(raw: bytes) -> Any:
    """One JSON document, every number kept exact; raises ``ValueError`` with a readable message.

    Numbers that no machine type would write back the same (``123456789012345678901234567890``,
    ``1e400``, ``1.50``) come back as ``exactjson.ExactNumber``, so the payload carries them as sent.
    """
    return exactjson.loads(raw)


def read_profiles(stream: IO[bytes]) -> Iterator[ProfileLine]:
    """Yield one ``ProfileLine`` per non-blank line of ``stream``, as each line arrives."""
    for number, raw in enumerate(iter(stream.readline, b""), start=1):
        if not raw.strip():
            continue
        try:
            yield ProfileLine(number, profile=parse_line(raw.strip()))
        except ValueError as exc:
            yield ProfileLine(number, error=str(exc))


def open_input(path: str) -> IO[bytes]:
    """``-`` is stdin; anything else a file, with a usage error (exit 2) if it cannot be read."""
    if path == "-":
        return sys.stdin.buffer
    try:
        return Path(path).open("rb")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read profiles: {exc.strerror or exc}") from None
