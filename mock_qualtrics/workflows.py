"""Workflows and users: what a trigger is checked against, validated in one place.

The admin API, the TOML config file and the store all build workflows through
:func:`parse_workflow`, so a bad field is reported the same way everywhere: a
:class:`ValidationError` whose message names the field (``fields[2].jsonpath: ...``).
Users keep only a SHA-256 digest of their API token: the mock never stores a credential.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from secrets import token_hex
from typing import Any

from .jsonpath_fields import FieldSpec

__all__ = ["User", "ValidationError", "Workflow", "parse_user", "parse_workflow", "token_digest"]

_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


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


def _string(data: Mapping[str, Any], key: str, *, where: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ValidationError(f"{where}{key}: required, a non-empty string of at most 200 chars")
    return value


def _bool(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise ValidationError(f"{key}: must be true or false, got {value!r}")
    return value


def _fields(raw: Any, max_fields: int) -> tuple[FieldSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValidationError("fields: must be a list of {name, jsonpath, required}")
    if len(raw) > max_fields:
        raise ValidationError(f"fields: at most {max_fields} JSON Event fields, got {len(raw)}")
    specs: list[FieldSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = f"fields[{index}]."
        if not isinstance(item, Mapping):
            raise ValidationError(f"fields[{index}]: must be an object")
        unknown = set(item) - {"name", "jsonpath", "required"}
        if unknown:
            raise ValidationError(f"{where}{sorted(unknown)[0]}: unknown key")
        name = _string(item, "name", where=where)
        path = _string(item, "jsonpath", where=where)
        required = item.get("required", False)
        if not isinstance(required, bool):
            raise ValidationError(f"{where}required: must be true or false")
        if name in seen:
            raise ValidationError(f"{where}name: duplicate field name {name!r}")
        seen.add(name)
        try:
            specs.append(FieldSpec(name, path, required))
        except ValueError as exc:
            raise ValidationError(f"{where}jsonpath: {exc}") from None
    return tuple(specs)


_WORKFLOW_KEYS = {"id", "name", "owner", "url_token_id", "enabled", "auth_required"}


def parse_workflow(
    data: Any, *, max_fields: int = 10, existing: Workflow | None = None
) -> Workflow:
    """Build a workflow from a request body or config table (``existing``: a PATCH on it)."""
    if not isinstance(data, Mapping):
        raise ValidationError("body: must be a JSON object")
    unknown = set(data) - _WORKFLOW_KEYS - {"fields"}
    if unknown:
        raise ValidationError(f"{sorted(unknown)[0]}: unknown key")
    if existing is not None:
        if "id" in data or "url_token_id" in data:
            raise ValidationError("id: id and url_token_id cannot be changed")
        merged: dict[str, Any] = {
            "name": existing.name,
            "owner": existing.owner,
            "enabled": existing.enabled,
            "auth_required": existing.auth_required,
        }
        merged.update(data)
        fields = _fields(data["fields"], max_fields) if "fields" in data else existing.fields
        return replace(
            existing,
            name=_string(merged, "name"),
            owner=_string(merged, "owner"),
            enabled=_bool(merged, "enabled", True),
            auth_required=_bool(merged, "auth_required", True),
            fields=fields,
        )
    wf_id = data.get("id")
    if wf_id is None:
        wf_id = "WF_" + token_hex(8)
    elif not isinstance(wf_id, str) or not _ID.match(wf_id):
        raise ValidationError("id: 1-64 characters of A-Z a-z 0-9 _ . -")
    token = data.get("url_token_id")
    if token is None:
        token = str(uuid.uuid4())
    elif not isinstance(token, str) or not _UUID.match(token):
        raise ValidationError("url_token_id: must be a UUID")
    return Workflow(
        id=wf_id,
        name=_string(data, "name"),
        owner=_string(data, "owner"),
        url_token_id=token.lower(),
        enabled=_bool(data, "enabled", True),
        auth_required=_bool(data, "auth_required", True),
        fields=_fields(data.get("fields"), max_fields),
    )


def parse_user(data: Any) -> tuple[str, str]:
    """``(username, api_token)`` from ``{"username", "api_token"}``."""
    if not isinstance(data, Mapping):
        raise ValidationError("body: must be a JSON object")
    unknown = set(data) - {"username", "api_token"}
    if unknown:
        raise ValidationError(f"{sorted(unknown)[0]}: unknown key")
    username = _string(data, "username")
    token = data.get("api_token")
    if not isinstance(token, str) or not token or len(token) > 200:
        raise ValidationError("api_token: required, a non-empty string of at most 200 chars")
    return username, token
