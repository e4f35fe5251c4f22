"""What ``certify`` checks before its property stage, and what it tidies after ``--mock``.

A certification against a user's mock used to find a dead mock, a missing admin token or an
unwritable ``--json`` path only at the end, after the property stage had run for a while; and it
left its workflows behind in the user's mock. ``preflight`` checks every output path and (with
``--mock``) that the mock answers its health check and lets us use its admin API, so each of
these mistakes is one line and exit 2 before any work. ``MockTidy`` notes the workflows that
exist before the run and deletes the ones certification created (named ``certify ...``) when the
run ends, pass or fail. The mock's admin API has no way to delete a user, so the run's one
``qharness-certify-...`` user stays; deleted workflows keep their runs (shown as "Deleted
Workflow"), as in Qualtrics.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from mock_qualtrics.client import MockAdmin, MockAdminAuthError, MockAdminError

from ..errors import UsageError
from ._common import ADMIN_TOKEN_ENV, admin_token_fix

__all__ = ["MockTidy", "check_mock", "check_mock_url", "check_output_paths"]

#: Certification names every workflow it creates with this prefix (see ``delivery_stage``).
CREATED_PREFIX = "certify "


def check_output_paths(paths: Iterable[tuple[str, Path | None]]) -> None:
    """``UsageError`` naming the flag and the path when a report could not be written."""
    for flag, path in paths:
        if path is None:
            continue
        parent = path.parent if str(path.parent) else Path(".")
        if path.is_dir():
            problem = "is a directory"
        elif not parent.is_dir():
            problem = f"its directory {str(parent)!r} does not exist"
        elif path.exists() and not os.access(path, os.W_OK):
            problem = "is not writable"
        elif not path.exists() and not os.access(parent, os.W_OK):
            problem = f"its directory {str(parent)!r} is not writable"
        else:
            continue
        raise UsageError(f"{flag} {str(path)!r}: {problem}; nothing was run")


def check_mock_url(url: str, mock_hosts: tuple[str, ...]) -> None:
    """``UsageError`` before any work when the connector could not deliver to the mock at
    ``url``: the mock builds its trigger URLs from the host it is asked by, so that host must be
    loopback or named with ``--allow-mock-host``."""
    from ..delivery.urlguard import check_url
    from ..errors import UrlGuardError

    try:
        check_url(url.rstrip("/") + "/", allow_http_loopback=True, allow_mock_hosts=mock_hosts)
    except UrlGuardError as exc:
        raise UsageError(
            f"--mock {url}: {exc}; a mock reached by a name (a CI service container) needs "
            "--allow-mock-host NAME; nothing was run"
        ) from None


def check_mock(url: str, admin_token: str | None, token_env: str = ADMIN_TOKEN_ENV) -> MockAdmin:
    """A client for the mock at ``url`` once it answered health and an admin call; else exit 2.
    ``token_env`` is where ``admin_token`` came from, named in the fix when the mock refuses."""
    admin = MockAdmin(url, admin_token=admin_token)
    try:
        admin.health()
        admin.workflows()
    except MockAdminError as exc:
        admin.close()
        message = str(exc)
        if isinstance(exc, MockAdminAuthError):
            message += "; " + admin_token_fix(token_env, given=bool(admin_token))
        raise UsageError(f"--mock {url}: {message}; nothing was run") from None
    return admin


class MockTidy:
    """Deletes, at the end, the ``certify ...`` workflows that appeared during the run."""

    def __init__(self, admin: MockAdmin) -> None:
        self._admin = admin
        self._before = {str(w["id"]) for w in admin.workflows()}

    def tidy(self) -> str:
        """Delete what certification created; one line saying what was deleted (or why not)."""
        deleted = 0
        try:
            for workflow in self._admin.workflows():
                ident = str(workflow["id"])
                if ident in self._before or not str(workflow["name"]).startswith(CREATED_PREFIX):
                    continue
                self._admin.delete_workflow(ident)
                deleted += 1
        except MockAdminError as exc:
            return f"warning: could not delete what certification created in the mock: {exc}"
        finally:
            self._admin.close()
        noun = "workflow" if deleted == 1 else "workflows"
        return (
            f"deleted the {deleted} {noun} certification created in {self._admin.url} "
            "(--keep leaves them)"
        )
