"""Workflows and users: what a trigger is checked against, validated in one place.

The admin API and the TOML config file validate a workflow against the OpenAPI document's schema
(:mod:`mock_qualtrics.admin_schema`), then build it with :func:`parse_workflow`, which checks what
JSON Schema cannot say; either way a :class:`ValidationError` names the field
(``fields[2].jsonpath: ...``). The store reloads its own records with :meth:`Workflow.from_record`.
Users keep only a SHA-256 digest of their API token: the mock never stores a credential.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from secrets import token_hex
from typing import Any

from .jsonpath_fields import FieldSpec

__all__ = ["User", "ValidationError", "Workflow", "parse_user", "parse_workflow", "token_digest"]


class ValidationError(ValueError):
    """A request body or config entry is wrong; the message starts with the field's name."""


def token_digest(token: str) -> bytes:
    """The SHA-256 digest kept instead of an API token."""
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True, slots=True)
class User:
    """A Qualtrics user: a name and the digest of its API token."""

    username: str
    token_sha256: bytes


@dataclass(frozen=True, slots=True)
class Workflow:
    """A workflow with a JSON Event trigger."""

    id: str
    name: str
    owner: str
    url_token_id: str
    enabled: bool = True
    auth_required: bool = True
    fields: tuple[FieldSpec, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "owner": self.owner,
            "urlTokenId": self.url_token_id,
            "enabled": self.enabled,
            "auth_required": self.auth_required,
            "fields": [f.as_dict() for f in self.fields],
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Workflow:
        """The workflow the store saved as :meth:`as_dict` (already validated when saved)."""
        return cls(
            id=record["id"],
            name=record["name"],
            owner=record["owner"],
            url_token_id=record["urlTokenId"],
            enabled=record["enabled"],
            auth_required=record["auth_required"],
            fields=tuple(
                FieldSpec(f["name"], f["jsonpath"], f.get("required", False))
                for f in record["fields"]
            ),
        )


def _fields(raw: list[Mapping[str, Any]] | None) -> tuple[FieldSpec, ...]:
    """Field specs, once the schema has checked their shape: names unique, JSONPaths compile."""
    specs: list[FieldSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(raw or ()):
        where = f"fields[{index}]."
        name = item["name"]
        if name in seen:
            raise ValidationError(f"{where}name: duplicate field name {name!r}")
        seen.add(name)
        try:
            specs.append(FieldSpec(name, item["jsonpath"], item.get("required", False)))
        except ValueError as exc:
            raise ValidationError(f"{where}jsonpath: {exc}") from None
    return tuple(specs)


def parse_workflow(data: Mapping[str, Any], *, existing: Workflow | None = None) -> Workflow:
    """A workflow from a body (or config table) that the OpenAPI document's schema has validated.

    ``WorkflowInput`` (or ``WorkflowPatch`` for a PATCH on ``existing``) has checked every type,
    length, pattern, unknown key and the number of fields; what is left is what JSON Schema cannot
    say: field names unique, JSONPaths that compile, and the generated id and urlTokenId.
    """
    if existing is not None:
        fields = _fields(data["fields"]) if "fields" in data else existing.fields
        return replace(
            existing,
            name=data.get("name", existing.name),
            owner=data.get("owner", existing.owner),
            enabled=data.get("enabled", existing.enabled),
            auth_required=data.get("auth_required", existing.auth_required),
            fields=fields,
        )
    token = data.get("url_token_id") or str(uuid.uuid4())
    return Workflow(
        id=data.get("id") or "WF_" + token_hex(8),
        name=data["name"],
        owner=data["owner"],
        url_token_id=token.lower(),
        enabled=data.get("enabled", True),
        auth_required=data.get("auth_required", True),
        fields=_fields(data.get("fields")),
    )


def parse_user(data: Mapping[str, Any]) -> tuple[str, str]:
    """``(username, api_token)`` from a body the schema has validated."""
    return data["username"], data["api_token"]
