"""The bundled example activation: ``examples/activation.toml``, kept once.

The file lives only in ``examples/``. The wheel ships it as ``connector/bundled/activation.toml``
(hatch's ``force-include`` in pyproject.toml), so an installed harness finds it beside the
package; a checkout or an editable install, where that copy does not exist, reads it from
``examples/``. Every command that defaults to "the bundled example" reads it through here.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["bundled_activation_bytes"]


def bundled_activation_bytes() -> bytes:
    """The bytes of the bundled example activation (installed wheel first, then the checkout)."""
    shipped = resources.files(__package__ or "connector").joinpath("bundled", "activation.toml")
    if shipped.is_file():
        return shipped.read_bytes()
    return (Path(__file__).resolve().parents[1] / "examples" / "activation.toml").read_bytes()
