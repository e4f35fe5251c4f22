"""An example activation aimed at another trigger URL (a live mock's, a refused one...)."""

from __future__ import annotations

from pathlib import Path

from connector.activation import Activation, load_activation

from .paths import EXAMPLE

__all__ = ["activation_with_url", "example_activation"]


def example_activation() -> Activation:
    """The bundled example, loaded."""
    return load_activation(EXAMPLE)


def activation_with_url(directory: Path, url: str, *, source: Path = EXAMPLE) -> Path:
    """``source`` (the bundled example by default) with its ``url`` line replaced by ``url``.

    Written to ``directory/activation.toml``; every other line stays byte for byte, so the test
    exercises the example a user starts from, not a look-alike.
    """
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    [index] = [i for i, line in enumerate(lines) if line.startswith("url = ")]
    lines[index] = f'url = "{url}"\n'
    path = directory / "activation.toml"
    path.write_text("".join(lines), encoding="utf-8")
    return path
