"""The mock's settings: one table of defaults, read from a mapping or a TOML file.

:data:`DEFAULTS` is the only place a setting and its default are written: ``create_app``,
``qharness mock serve``, the TOML file's ``[limits]`` and ``[extensions]`` tables and the pytest
plugin's marker all derive what they accept from it, so a new setting is one line here. Keys are
upper-case, as Flask's config is; the TOML tables use the lower-case names (extensions without
their ``EXTENSION_`` prefix). An unknown key is an error whatever its case, so a typo such as
``RUN_DELAI`` never passes silently.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["DEFAULTS", "ConfigError", "check_config", "from_tables", "load_toml"]

#: Defaults: Qualtrics' numbers where it documents one; the others are labelled assumptions at
#: ``GET /__admin/behaviours`` (mock_qualtrics/behaviours.py).
DEFAULTS: dict[str, Any] = {
    "DATABASE": ":memory:",  # SQLite file, or ":memory:"
    "RUN_DELAY": 0.5,  # seconds between "queued" and "Succeeded"/"Failed"
    "PAYLOAD_STORAGE": "raw",  # raw | redacted | none
    "MAX_BODY_BYTES": 102_400,  # 100 KB -> 413
    "MAX_JSON_DEPTH": 32,  # deeper -> 400
    "RATE_LIMIT": 3_000,  # calls per user per window: the bucket drains at this rate -> 429
    "RATE_WINDOW": 60.0,  # seconds
    "RATE_BURST": 50,  # leaky bucket size per user (assumed: Qualtrics documents no size)
    "DAILY_RUN_LIMIT": 300_000,  # runs per UTC day -> 429
    "LOCKOUT_FAILURES": 10,  # failed authentications per client ...
    "LOCKOUT_WINDOW": 60.0,  # ... within this many seconds ...
    "LOCKOUT_SECONDS": 300.0,  # ... lock the client out for this long
    "IDEMPOTENCY_TTL": 86_400.0,  # seconds an Idempotency-Key is remembered (extension on)
    "HISTORY_LIMIT": 10_000,  # runs kept per workflow (oldest evicted)
    "JOURNAL_LIMIT": 100_000,  # journal entries kept (oldest evicted)
    "RETENTION_DAYS": 30,  # runs and journal entries older than this are deleted
    "MAX_FIELDS": 10,  # JSON Event fields per workflow
    "MAX_WAIT_SECONDS": 30,  # the long-poll's maximum timeout
    "WORKFLOWS": (),  # workflows to upsert at start (mappings, as in the TOML file)
    "USERS": (),  # users to upsert at start
    "ADMIN_TOKEN": None,  # when set, /__admin/ and the UI require it  # nosec B105 - no token
    "PUBLIC_HOSTS": (),  # Host names accepted besides loopback (qharness mock serve --public-host)
    "TRUST_PROXY": 0,  # proxies in front whose X-Forwarded-* to believe (mock serve --trust-proxy)
    # Extensions: behaviours Qualtrics does not have, off unless asked for ([extensions] table).
    "EXTENSION_IDEMPOTENCY_KEYS": False,  # dedup by Idempotency-Key (Qualtrics documents none)
}

#: Settings that come from the command line or the file's own tables, never from ``[limits]``.
_NOT_LIMITS = frozenset(
    {"DATABASE", "WORKFLOWS", "USERS", "ADMIN_TOKEN", "PUBLIC_HOSTS", "TRUST_PROXY"}
)
_EXTENSION = "EXTENSION_"


class ConfigError(ValueError):
    """A mock config cannot be used; the message names the file (or source) and the key."""


def _limit_keys() -> list[str]:
    return [k for k in DEFAULTS if k not in _NOT_LIMITS and not k.startswith(_EXTENSION)]


def _check_type(key: str, value: Any, where: str) -> None:
    default = DEFAULTS[key]
    if default is None or isinstance(default, tuple):
        return
    if isinstance(default, bool) or isinstance(value, bool):
        ok = isinstance(value, bool) and isinstance(default, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise ConfigError(f"{where}: expected {type(default).__name__}, got {value!r}")


def check_config(config: Mapping[str, Any]) -> None:
    """Reject unknown keys (whatever their case) and values of the wrong type."""
    for key, value in config.items():
        if key not in DEFAULTS:
            raise ConfigError(f"unknown mock config key {key!r}")
        _check_type(key, value, key)
    storage = config.get("PAYLOAD_STORAGE", DEFAULTS["PAYLOAD_STORAGE"])
    if storage not in ("raw", "redacted", "none"):
        raise ConfigError(f"PAYLOAD_STORAGE: must be raw, redacted or none, got {storage!r}")


def from_tables(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Config keys from a config file's tables: ``users``, ``workflows``, ``limits`` and
    ``extensions`` (lower-case keys); ``source`` prefixes every error (a file name, say)."""
    unknown = set(data) - {"users", "workflows", "limits", "extensions"}
    if unknown:
        raise ConfigError(f"{source}: {sorted(unknown)[0]}: unknown table")
    out: dict[str, Any] = {}
    for table in ("users", "workflows"):
        rows = data.get(table, [])
        if not isinstance(rows, list | tuple) or not all(isinstance(r, Mapping) for r in rows):
            raise ConfigError(f"{source}: {table}: must be an array of tables ([[{table}]])")
        if table in data:
            out[table.upper()] = tuple(dict(r) for r in rows)
    limits = _limit_keys()
    for table, prefix, allowed, what in (
        ("limits", "", limits, "unknown limit"),
        (
            "extensions",
            _EXTENSION,
            [k for k in DEFAULTS if k.startswith(_EXTENSION)],
            "unknown extension",
        ),
    ):
        values = data.get(table, {})
        if not isinstance(values, Mapping):
            raise ConfigError(f"{source}: {table}: must be a table")
        for key, value in values.items():
            upper = prefix + str(key).upper()
            if upper not in allowed or str(key) != str(key).lower():
                raise ConfigError(f"{source}: {table}.{key}: {what}")
            _check_type(upper, value, f"{source}: {table}.{key}")
            out[upper] = value
    return out


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a mock config file into config keys (``USERS``, ``WORKFLOWS``, limits, extensions).

    The file holds ``[[users]] username, api_token``, ``[[workflows]] ...``, an optional
    ``[limits]`` table (lower-case names of :data:`DEFAULTS`' limits) and an optional
    ``[extensions]`` table (e.g. ``idempotency_keys = true``).
    """
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    return from_tables(data, str(file))
