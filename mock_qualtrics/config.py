"""The mock's settings: one table of defaults, read from a mapping or a TOML file.

Every Qualtrics limit lives here so that tests can reach it with small numbers, and so that
``create_app``, ``qharness mock serve`` and the pytest plugin agree on what the defaults are.
Keys are upper-case, as Flask's config is; a TOML file's ``[limits]`` table uses lower-case keys.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["DEFAULTS", "LIMIT_KEYS", "ConfigError", "load_toml"]

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
    "IDEMPOTENCY_TTL": 86_400.0,  # seconds an Idempotency-Key is remembered
    "HISTORY_LIMIT": 10_000,  # runs kept per workflow (oldest evicted)
    "JOURNAL_LIMIT": 100_000,  # journal entries kept (oldest evicted)
    "RETENTION_DAYS": 30,  # runs and journal entries older than this are deleted
    "MAX_FIELDS": 10,  # JSON Event fields per workflow
    "MAX_WAIT_SECONDS": 30,  # the long-poll's maximum timeout
    "WORKFLOWS": (),  # workflows to upsert at start (mappings, as in the TOML file)
    "USERS": (),  # users to upsert at start
}

DEFAULTS["ADMIN_TOKEN"] = None  # when set, /__admin/ and the UI require it
DEFAULTS["PUBLIC_HOSTS"] = ()  # Host names answered besides loopback ones (--public-host)

#: The keys a TOML ``[limits]`` table may set (lower-case there).
LIMIT_KEYS: tuple[str, ...] = (
    "RUN_DELAY",
    "PAYLOAD_STORAGE",
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "RATE_LIMIT",
    "RATE_WINDOW",
    "RATE_BURST",
    "DAILY_RUN_LIMIT",
    "LOCKOUT_FAILURES",
    "LOCKOUT_WINDOW",
    "LOCKOUT_SECONDS",
    "IDEMPOTENCY_TTL",
    "HISTORY_LIMIT",
    "JOURNAL_LIMIT",
    "RETENTION_DAYS",
)


class ConfigError(ValueError):
    """A mock config file cannot be used; the message names the file and the key."""


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a mock config file into config keys (``USERS``, ``WORKFLOWS`` and limits).

    The file holds ``[[users]] username, api_token``, ``[[workflows]] ...`` and an optional
    ``[limits]`` table whose keys are the lower-case names of :data:`LIMIT_KEYS`.
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
    out: dict[str, Any] = {}
    users = data.get("users", [])
    workflows = data.get("workflows", [])
    if not isinstance(users, list) or not all(isinstance(u, Mapping) for u in users):
        raise ConfigError(f"{file}: users: must be an array of tables ([[users]])")
    if not isinstance(workflows, list) or not all(isinstance(w, Mapping) for w in workflows):
        raise ConfigError(f"{file}: workflows: must be an array of tables ([[workflows]])")
    out["USERS"] = tuple(dict(u) for u in users)
    out["WORKFLOWS"] = tuple(dict(w) for w in workflows)
    limits = data.get("limits", {})
    if not isinstance(limits, Mapping):
        raise ConfigError(f"{file}: limits: must be a table")
    for key, value in limits.items():
        upper = str(key).upper()
        if upper not in LIMIT_KEYS:
            raise ConfigError(f"{file}: limits.{key}: unknown limit")
        if not isinstance(value, type(DEFAULTS[upper])) and not (
            isinstance(DEFAULTS[upper], float) and isinstance(value, int)
        ):
            raise ConfigError(f"{file}: limits.{key}: expected {type(DEFAULTS[upper]).__name__}")
        out[upper] = value
    unknown = set(data) - {"users", "workflows", "limits"}
    if unknown:
        raise ConfigError(f"{file}: {sorted(unknown)[0]}: unknown table")
    return out
