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

import orjson

from .errors import UsageError

__all__ = ["ProfileLine", "open_input", "parse_line", "read_profiles"]


@dataclass(frozen=True, slots=True)
class ProfileLine:
    """Line ``number`` of the input: the parsed ``profile``, or ``error`` saying why not."""

    number: int
    profile: Any = None
    error: str | None = None


def parse_line(raw: bytes) -> Any:
    """One JSON document; raises ``ValueError`` with a readable message."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    # orjson refuses integers beyond 64 bits, which are still JSON; stdlib also words errors better.
    import json

    try:
        document = json.loads(raw, parse_constant=_reject_constant)
        # stdlib accepts escaped lone surrogates ("\\ud800"), which no UTF-8 body can carry.
        json.dumps(document, ensure_ascii=False).encode("utf-8")
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


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


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
