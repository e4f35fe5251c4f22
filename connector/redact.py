"""Keep secrets out of everything a person or a log can read.

The API token never reaches this module (it lives only inside the auth object); what does reach
logs, reports and exceptions is the destination URL, whose query carries the workflow's
``urlTokenId`` (or, in the older shape, ``triggerId``), which works like a password.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "redact_url"]

REDACTED = "***"

#: Query parameters that identify a workflow well enough to trigger it.
_SECRET_PARAMS = ("urltokenid", "triggerid", "token", "apitoken", "api_token")
#: A secret parameter anywhere in the text, even in a URL too mangled to parse as one.
_SECRET_ANYWHERE = re.compile(
    r"(?i)((?:urltokenid|triggerid|api_?token|token)(?:=|%3D))[^&#\s'\"]*"
)


def redact_url(url: str) -> str:
    """``url`` with secret query values and any userinfo replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = urlencode(
        [
            (key, REDACTED if any(name in key.lower() for name in _SECRET_PARAMS) else value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    redacted = urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    return _SECRET_ANYWHERE.sub(rf"\1{REDACTED}", redacted)
