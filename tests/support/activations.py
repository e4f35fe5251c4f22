"""An example activation aimed at another trigger URL (a live mock's, a refused one...)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from connector.activation import Activation, load_activation

from .paths import EXAMPLE
from .profiles import AUDIENCE

__all__ = ["DOCUMENTED_IDENTITIES", "activation_toml", "activation_with_url", "example_activation"]

#: Adobe's documented identity mapping: Email -> email, ECID -> external_id.
DOCUMENTED_IDENTITIES = """
[[identities]]
source = "Email"
target = "email"

[[identities]]
source = "ECID"
target = "external_id"
"""


def activation_toml(*tables: str, audiences: Sequence[str] = (AUDIENCE,)) -> str:
    """An activation's TOML: a ``[destination]`` that is never reached, ``audiences``, ``tables``.

    For tests of rendering and rules, where only the mapping matters.
    """
    head = (
        "[destination]\n"
        'name = "CSAT"\n'
        'url = "https://iad1.qualtrics.com/inbound-event/v1/events/json/triggers?urlTokenId=x"\n'
        'username = "u"\n'
        'api_token_env = "T"\n'
    )
    listed = "".join(f'\n[[audiences]]\nid = "{audience}"\n' for audience in audiences)
    return head + listed + "".join(tables)


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
