"""The activation's data model: a destination, its audiences, identity and attribute mappings.

An activation is what a user configures in AEP's "Activate destination" flow; ``activation``
loads and checks one, and every other module reads these frozen dataclasses. The one naming rule
the mappings carry lives here too: a source written ``attributes.X`` names the Destination SDK
attribute ``X``, which a profile holds as ``{"attributes": {"X": {"value": ...}}}`` (the
Destination SDK's profile form); any other source is an XDM path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from .paths import split_path
from .redact import redact_url

__all__ = [
    "SDK_ATTRIBUTES",
    "Activation",
    "AttributeMapping",
    "Audience",
    "Consent",
    "Destination",
    "IdentityMapping",
    "WorkflowField",
    "sdk_attribute",
]

#: The profile key under which the Destination SDK puts mapped attributes.
SDK_ATTRIBUTES: Final = "attributes"


def sdk_attribute(keys: tuple[str, ...]) -> str:
    """The Destination SDK attribute that source path ``keys`` names, or ``""`` for an XDM path.

    ``("attributes", "X")`` names attribute ``X``; a longer or shorter path under ``attributes``
    is an XDM field group that happens to be called that, read as it is.
    """
    return keys[1] if len(keys) == 2 and keys[0] == SDK_ATTRIBUTES else ""


@dataclass(frozen=True, slots=True)
class Destination:
    name: str
    url: str = field(repr=False)
    username: str
    api_token_env: str
    description: str = ""
    marketing_actions: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"Destination(name={self.name!r}, url={redact_url(self.url)!r}, "
            f"username={self.username!r}, api_token_env={self.api_token_env!r})"
        )


@dataclass(frozen=True, slots=True)
class Audience:
    id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class IdentityMapping:
    """``source`` is an identityMap namespace (``Email``); ``target`` is ``email`` or ``external_id``."""

    source: str
    target: str


@dataclass(frozen=True, slots=True)
class AttributeMapping:
    """``source`` is a dotted path in the profile; ``target`` a dotted path in the payload;
    ``type`` the source's XDM type (``live_values.XDM_TYPES``), ``None`` when not declared."""

    source: str
    target: str
    labels: tuple[str, ...] = ()
    type: str | None = None

    @property
    def source_keys(self) -> tuple[str, ...]:
        return split_path(self.source)

    @property
    def target_keys(self) -> tuple[str, ...]:
        return split_path(self.target)

    @property
    def sdk_name(self) -> str:
        """The Destination SDK attribute this mapping reads (``attributes.X``), or ``""``."""
        return sdk_attribute(self.source_keys)


@dataclass(frozen=True, slots=True)
class Consent:
    """The profile is sent only if the value at ``path`` is one of ``allow``."""

    path: str
    allow: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WorkflowField:
    """A JSON Event field of the partner's workflow; ``feeds_from`` names the mapping behind it."""

    name: str
    jsonpath: str
    required: bool = False
    feeds_from: str | None = None


@dataclass(frozen=True, slots=True)
class Activation:
    """A loaded, checked activation. ``source`` is the file it came from (for messages);
    ``sha256`` the digest of its bytes (``""`` when built in code)."""

    source: str
    destination: Destination
    audiences: tuple[Audience, ...]
    identities: tuple[IdentityMapping, ...]
    attributes: tuple[AttributeMapping, ...] = ()
    consent: Consent | None = None
    workflow_fields: tuple[WorkflowField, ...] = ()
    fields_derived: bool = True
    warnings: tuple[str, ...] = ()
    sha256: str = ""

    @property
    def audience_ids(self) -> tuple[str, ...]:
        return tuple(audience.id for audience in self.audiences)
