"""A mock of the Qualtrics JSON Event trigger, with run history, admin API and UI.

``create_app(config)`` builds the Flask app (trigger, ``/__admin/`` API, browser UI at ``/``);
``LiveMock`` serves one on a free 127.0.0.1 port from a thread, which is what the pytest plugin
and the certification use; ``qharness mock serve`` runs one for local development. Qualtrics'
authentication, limits and asynchronous runs are reproduced where public documentation describes
them and go no further by default; every behaviour no public source describes is labelled
``assumed`` or ``extension`` at ``GET /__admin/behaviours`` (:mod:`mock_qualtrics.behaviours`).
This package never imports ``connector``.
"""

from __future__ import annotations

from .app import create_app
from .config import DEFAULTS, ConfigError, load_toml
from .envelope import ConnectionDropped
from .server import LiveMock, is_loopback, make_server

__all__ = [
    "DEFAULTS",
    "ConfigError",
    "ConnectionDropped",
    "LiveMock",
    "create_app",
    "is_loopback",
    "load_toml",
    "make_server",
]
