"""``python -m connector.cli`` is ``qharness``."""

from . import _entry

_entry()
