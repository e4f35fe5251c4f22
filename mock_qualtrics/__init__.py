"""A mock of the Qualtrics JSON Event trigger, with run history, admin API and UI.

``create_app(config)`` builds the Flask app (trigger, ``/__admin/`` API, browser UI at ``/``);
``LiveMock`` serves one on a free 127.0.0.1 port from a thread, which is what the pytest plugin
and the certification use; ``qharness mock serve`` runs one for local development;
``MockAdmin`` is the client for any running mock's admin API. Qualtrics' authentication, limits
and asynchronous runs are reproduced where public documentation describes them and go no further
by default; every behaviour no public source describes is labelled ``assumed`` or ``extension``
at ``GET /__admin/behaviours`` (:mod:`mock_qualtrics.behaviours`), and extensions are off unless
asked for. This package never imports ``connector``.

Names are loaded on first use (PEP 562), so importing a light module such as
``mock_qualtrics.incidents`` does not import Flask and waitress.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .client import MockAdmin, MockAdminError
    from .config import DEFAULTS, ConfigError, Settings, load_toml
    from .envelope import ConnectionDropped
    from .server import LiveMock, is_loopback, make_server

__all__ = [
    "DEFAULTS",
    "ConfigError",
    "ConnectionDropped",
    "LiveMock",
    "MockAdmin",
    "MockAdminError",
    "Settings",
    "create_app",
    "is_loopback",
    "load_toml",
    "make_server",
]

_HOMES = {
    "create_app": "app",
    "MockAdmin": "client",
    "MockAdminError": "client",
    "DEFAULTS": "config",
    "ConfigError": "config",
    "Settings": "config",
    "load_toml": "config",
    "ConnectionDropped": "envelope",
    "LiveMock": "server",
    "is_loopback": "server",
    "make_server": "server",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mock_qualtrics' has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
