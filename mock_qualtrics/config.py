"""The mock's settings: one typed, ranged :class:`Settings`, built once per app.

:class:`Settings` is the only place a setting, its default and its range are written: one line
each. :data:`DEFAULTS` (upper-case keys, as Flask's config spells them), ``qharness mock serve``'s
flags, the TOML file's ``[limits]`` and ``[extensions]`` tables and the pytest plugin's marker all
derive what they accept from it. The file's tables use the lower-case names (extensions without
their ``EXTENSION_`` prefix). Every value is checked where it is read, so the error names where it
came from: ``mock.toml: limits.rate_window: must be > 0, got 0``. An unknown key is an error
whatever its case, so a typo such as ``RUN_DELAI`` never passes silently. Numbers must be finite:
NaN and infinity are refused everywhere.

The limits shared with the connector (body bytes, JSON depth, fields per workflow) come from
:mod:`contracts.facts`. The modules read typed fields (``settings.rate_window``), never the Flask
config by string key; :func:`settings_of` fetches an app's.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final

from flask import Flask

from contracts.facts import LIMITS

__all__ = [
    "DEFAULTS",
    "PAYLOAD_STORAGE",
    "ConfigError",
    "Rule",
    "Settings",
    "check_config",
    "from_tables",
    "load_toml",
    "rule",
    "settings_of",
]

#: How runs may keep the payload.
PAYLOAD_STORAGE: Final = ("raw", "redacted", "none")
#: Server threads ``qharness mock serve`` starts by default (an in-process mock starts 16). More
#: threads than a load test's connections keep waitress from queueing complete requests: with 32
#: connections (wrk), 64 threads answered 1.95-2.02k events/s against 1.75-1.80k/s with 16, p99
#: no worse, in alternating runs on one core (2026-12-06). Each long-poll also holds one.
SERVE_THREADS: Final = 64
_YEAR: Final = 366 * 86_400.0
_BIG: Final = 10**12  # counts past this are a typo, not a setting


class ConfigError(ValueError):
    """A mock config cannot be used; the message names the file (or source) and the key."""


@dataclass(frozen=True, slots=True)
class Rule:
    """What a setting accepts: its type, and a range (``above``: exclusive) or a set of choices."""

    kind: type
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    choices: tuple[str, ...] = ()
    nullable: bool = False

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is refused (``"must be > 0, got 0"``), or None when it is fine."""
        if value is None and self.nullable:
            return None
        if self.kind is tuple:
            return None if isinstance(value, list | tuple) else f"must be an array, got {value!r}"
        if self.kind is bool or isinstance(value, bool):
            if self.kind is bool and isinstance(value, bool):
                return None
            return f"expected {self.kind.__name__}, got {value!r}"
        numeric = self.kind is float and isinstance(value, int)
        if not (isinstance(value, self.kind) or numeric):
            return f"expected {self.kind.__name__}, got {value!r}"
        if self.choices and value not in self.choices:
            return f"must be {', '.join(self.choices[:-1])} or {self.choices[-1]}, got {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"must be a finite number, got {value!r}"
        if self.above is not None and not value > self.above:
            return f"must be > {_num(self.above)}, got {value!r}"
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            return f"must be {_words(low, high)}, got {value!r}"
        return None


def _num(value: float) -> str:
    """``67108864``, ``0.5``: whole numbers in full (a reader types them into TOML)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _words(low: float | None, high: float | None) -> str:
    if high is None:
        return f">= {_num(low or 0)}"
    if low is None:
        return f"<= {_num(high)}"
    return f"{_num(low)} to {_num(high)}"


def _key(default: Any, kind: type, **limits: Any) -> Any:
    """A setting's default and :class:`Rule`: one line per setting in :class:`Settings`."""
    return field(default=default, metadata={"rule": Rule(kind, **limits)})


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting of one mock; Qualtrics' numbers where it documents one, the others labelled
    assumptions at ``GET /__admin/behaviours`` (mock_qualtrics/behaviours.py)."""

    database: str = _key(":memory:", str)  # SQLite file, or ":memory:"
    run_delay: float = _key(0.5, float, minimum=0, maximum=3_600)  # queued -> finished, seconds
    payload_storage: str = _key("raw", str, choices=PAYLOAD_STORAGE)  # how runs keep the payload
    max_body_bytes: int = _key(LIMITS.body_bytes, int, minimum=1, maximum=64 << 20)  # -> 413
    max_json_depth: int = _key(LIMITS.json_depth, int, minimum=1, maximum=1_000)  # deeper -> 400
    rate_limit: int = _key(3_000, int, minimum=1, maximum=_BIG)  # calls per user per window
    rate_window: float = _key(60.0, float, above=0, maximum=_YEAR)  # seconds -> 429
    rate_burst: int = _key(50, int, minimum=1, maximum=_BIG)  # leaky bucket size (assumed)
    daily_run_limit: int = _key(300_000, int, minimum=1, maximum=_BIG)  # runs per UTC day -> 429
    lockout_failures: int = _key(10, int, minimum=1, maximum=_BIG)  # failed authentications ...
    lockout_window: float = _key(60.0, float, above=0, maximum=_YEAR)  # ... within seconds ...
    lockout_seconds: float = _key(300.0, float, minimum=0, maximum=_YEAR)  # ... lock out this long
    idempotency_ttl: float = _key(86_400.0, float, above=0, maximum=_YEAR)  # key kept (extension)
    history_limit: int = _key(10_000, int, minimum=1, maximum=_BIG)  # runs kept per workflow
    journal_limit: int = _key(100_000, int, minimum=1, maximum=_BIG)  # journal entries kept
    retention_days: int = _key(30, int, minimum=1, maximum=36_500)  # older runs are deleted
    max_fields: int = _key(LIMITS.fields_per_workflow, int, minimum=1, maximum=1_000)
    max_wait_seconds: int = _key(30, int, minimum=1, maximum=3_600)  # the long-poll's maximum
    workflows: tuple[Mapping[str, Any], ...] = _key((), tuple)  # upserted at start
    users: tuple[Mapping[str, Any], ...] = _key((), tuple)  # upserted at start
    admin_token: str | None = _key(None, str, nullable=True)  # guards /__admin/ and the UI
    public_hosts: tuple[str, ...] = _key((), tuple)  # Host names accepted besides loopback
    trust_proxy: int = _key(0, int, minimum=0, maximum=10)  # proxies whose X-Forwarded-* count
    fidelity_record: str | None = _key(None, str, nullable=True)  # a probe record to follow
    fidelity_max_age_days: int = _key(30, int, minimum=1, maximum=10**6)  # older: a warning
    # Extensions: behaviours Qualtrics does not have, off unless asked for ([extensions] table).
    extension_idempotency_keys: bool = _key(False, bool)  # dedup by Idempotency-Key

    def __repr__(self) -> str:
        """Every setting but the admin token's value, which is a secret."""
        shown = [
            f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name != "admin_token"
        ]
        shown.append(f"admin_token={'<set>' if self.admin_token else None}")
        return f"Settings({', '.join(shown)})"

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any] | None = None) -> Settings:
        """Settings from upper-case keys over the defaults; a :class:`ConfigError` names the key."""
        check_config(config or {})
        values = {key.lower(): _normal(key, value) for key, value in (config or {}).items()}
        return replace(cls(), **values)

    def as_config(self) -> dict[str, Any]:
        """The upper-case mapping Flask's ``app.config`` holds (for code outside the mock)."""
        return {f.name.upper(): getattr(self, f.name) for f in fields(self)}


def _normal(key: str, value: Any) -> Any:
    kind = rule(key).kind
    if kind is tuple and value is not None:
        return tuple(dict(v) if isinstance(v, Mapping) else v for v in value)
    if kind is float and value is not None:
        return float(value)
    return value


_FIELDS: Final[dict[str, Field[Any]]] = {f.name.upper(): f for f in fields(Settings)}

#: Every setting's default by its upper-case key (the keys ``create_app`` accepts).
DEFAULTS: Final[dict[str, Any]] = {
    key: f.default for key, f in _FIELDS.items() if f.default is not MISSING
}

#: The ``[fidelity]`` table's keys and the settings they set.
_FIDELITY = {"record": "FIDELITY_RECORD", "max_age_days": "FIDELITY_MAX_AGE_DAYS"}
#: Settings that come from the command line or the file's own tables, never from ``[limits]``.
_NOT_LIMITS = frozenset(
    {
        "DATABASE",
        "WORKFLOWS",
        "USERS",
        "ADMIN_TOKEN",
        "PUBLIC_HOSTS",
        "TRUST_PROXY",
        *_FIDELITY.values(),
    }
)
_EXTENSION = "EXTENSION_"


def rule(key: str) -> Rule:
    """The :class:`Rule` of upper-case setting ``key`` (a CLI flag takes its range from here)."""
    found: Rule = _FIELDS[key].metadata["rule"]
    return found


def settings_of(app: Flask) -> Settings:
    """The typed settings ``create_app`` built for ``app``."""
    settings: Settings = app.extensions["mock_qualtrics.settings"]
    return settings


def _check(key: str, value: Any, where: str) -> None:
    problem = rule(key).problem(value)
    if problem is not None:
        raise ConfigError(f"{where}: {problem}")


def check_config(config: Mapping[str, Any]) -> None:
    """Reject unknown keys (whatever their case) and values of the wrong type or out of range."""
    for key, value in config.items():
        if key not in DEFAULTS:
            raise ConfigError(f"unknown mock config key {key!r}")
        _check(key, value, key)


def _limit_keys() -> list[str]:
    return [k for k in DEFAULTS if k not in _NOT_LIMITS and not k.startswith(_EXTENSION)]


def _guess(name: str, known: list[str]) -> str:
    """``; did you mean 'x'?`` for a near miss among ``known`` (lower-case names), else ``""``."""
    close = difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _unique_workflow_ids(rows: tuple[dict[str, Any], ...], source: str) -> list[str]:
    seen: dict[str, int] = {}
    problems = []
    for index, row in enumerate(rows):
        wf_id = row.get("id")
        if not isinstance(wf_id, str):
            continue
        if wf_id in seen:
            problems.append(
                f"{source}: workflows[{index}].id: {wf_id!r} is also workflows[{seen[wf_id]}]'s id"
            )
        else:
            seen[wf_id] = index
    return problems


_TABLES: Final = ("users", "workflows", "limits", "extensions", "fidelity")


def from_tables(data: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Config keys from a config file's tables: ``users``, ``workflows``, ``limits`` and
    ``extensions`` (lower-case keys), and ``fidelity`` (``record``, ``max_age_days``); ``source``
    prefixes every error (a file name, say).

    Every problem is said at once, one line each in the :class:`ConfigError`, unknown tables and
    keys (with a did-you-mean) first: a user fixes the file in one go, not one rerun a typo."""
    unknown: list[str] = []
    problems: list[str] = []
    for table in sorted(set(data) - set(_TABLES)):
        unknown.append(f"{source}: {table}: unknown table{_guess(table, list(_TABLES))}")
    out: dict[str, Any] = {}
    for table in ("users", "workflows"):
        rows = data.get(table, [])
        if not isinstance(rows, list | tuple) or not all(isinstance(r, Mapping) for r in rows):
            problems.append(f"{source}: {table}: must be an array of tables ([[{table}]])")
        elif table in data:
            out[table.upper()] = tuple(dict(r) for r in rows)
    problems += _unique_workflow_ids(out.get("WORKFLOWS", ()), source)
    for table, prefix, allowed, what in (
        ("limits", "", _limit_keys(), "unknown limit"),
        (
            "extensions",
            _EXTENSION,
            [k for k in DEFAULTS if k.startswith(_EXTENSION)],
            "unknown extension",
        ),
    ):
        values = data.get(table, {})
        if not isinstance(values, Mapping):
            problems.append(f"{source}: {table}: must be a table")
            continue
        names = [k.removeprefix(prefix).lower() for k in allowed]
        for key, value in values.items():
            upper = prefix + str(key).upper()
            if upper not in allowed or str(key) != str(key).lower():
                unknown.append(f"{source}: {table}.{key}: {what}{_guess(str(key), names)}")
                continue
            try:
                _check(upper, value, f"{source}: {table}.{key}")
            except ConfigError as exc:
                problems.append(str(exc))
                continue
            out[upper] = value
    try:
        out.update(_fidelity_table(data.get("fidelity", {}), source))
    except ConfigError as exc:
        problems.append(str(exc))
    if unknown or problems:
        raise ConfigError("\n".join([*unknown, *problems]))
    return out


def _fidelity_table(values: Any, source: str) -> dict[str, Any]:
    """``[fidelity] record = "F"`` (a path) and ``max_age_days = N`` (a positive integer)."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"{source}: fidelity: must be a table")
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in _FIDELITY:
            raise ConfigError(f"{source}: fidelity.{key}: unknown key (record, max_age_days)")
        if key == "record" and not (isinstance(value, str) and value):
            raise ConfigError(f"{source}: fidelity.record: expected a file name, got {value!r}")
        if key == "max_age_days":
            _check(_FIDELITY[key], value, f"{source}: fidelity.max_age_days")
        out[_FIDELITY[key]] = value
    return out


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a mock config file into config keys (``USERS``, ``WORKFLOWS``, limits, extensions).

    The file holds ``[[users]] username, api_token``, ``[[workflows]] ...``, an optional
    ``[limits]`` table (lower-case names of :class:`Settings`' limits) and an optional
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
    config = from_tables(data, str(file))
    record = config.get("FIDELITY_RECORD")
    if record is not None:  # relative to the file, like any path written in it
        config["FIDELITY_RECORD"] = str(file.parent / record)
    return config
