"""Every error the harness raises on purpose, in one tree.

::

    HarnessError                     exit_code: what the CLI exits with
    ├── UsageError                   2: the user asked for something that cannot be done
    │   ├── ActivationError          the activation file is wrong (file, key path, problem)
    │   │   └── GovernanceError      a data-usage label clashes with a marketing action
    │   ├── SecretError              the API token's environment variable is unset or empty
    │   ├── UrlGuardError            a destination URL that must not be sent to
    │   └── StateError               the outbox state directory is locked or unreadable
    ├── ContractViolation            1: a document breaks a contract (JSON paths in .errors)
    └── DeliveryError                1: delivery could not complete
        ├── AuthRejected             401/403: sending stopped, every event kept
        └── OutboxError              the outbox cannot be written (disk full, I/O error)

Messages say what is wrong, with which value (``!r``) and where (file, key path, JSON path),
and never carry a secret: the API token and the URL's ``urlTokenId`` are redacted before an
error is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ActivationError",
    "AuthRejected",
    "ContractViolation",
    "DeliveryError",
    "GovernanceError",
    "HarnessError",
    "OutboxError",
    "SecretError",
    "StateError",
    "UrlGuardError",
    "UsageError",
    "ViolationDetail",
]


class HarnessError(Exception):
    """Base of every error the harness raises on purpose."""

    exit_code: int = 1


class UsageError(HarnessError):
    """A usage or configuration mistake: the CLI prints one line and exits 2."""

    exit_code = 2


class ActivationError(UsageError):
    """The activation file cannot be used: names the file, the key path and the problem.

    ``more`` holds the file's other problems, so a user fixes them all in one pass instead of
    one per run; ``str()`` is then one line per problem, this one first.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str,
        key_path: str = "",
        more: Sequence[ActivationError] = (),
    ) -> None:
        self.problem = problem
        self.file = file
        self.key_path = key_path
        self.more = tuple(more)
        where = f"{file}: {key_path}" if key_path else file
        lines = [f"{where}: {problem}", *(line for e in self.more for line in e.lines())]
        super().__init__("\n".join(lines))

    def lines(self) -> list[str]:
        """One line per problem, this one first."""
        return str(self).splitlines()

    @property
    def problems(self) -> tuple[ActivationError, ...]:
        """Every problem, each as its own error (this one, without ``more``, first)."""
        first = ActivationError(self.problem, file=self.file, key_path=self.key_path)
        return (first, *self.more)


class GovernanceError(ActivationError):
    """A mapped field carries a label that forbids one of the destination's marketing actions."""

    def __init__(
        self,
        problem: str,
        *,
        file: str,
        key_path: str,
        fields: Sequence[str],
        more: Sequence[ActivationError] = (),
    ) -> None:
        self.fields = tuple(fields)
        super().__init__(problem, file=file, key_path=key_path, more=more)

    @property
    def problems(self) -> tuple[ActivationError, ...]:
        first = GovernanceError(
            self.problem, file=self.file, key_path=self.key_path, fields=self.fields
        )
        return (first, *self.more)


class SecretError(UsageError):
    """The environment variable that should hold the API token is unset or empty."""


class UrlGuardError(UsageError):
    """The destination URL is not one the connector may send to."""


class StateError(UsageError):
    """The outbox state directory cannot be used (locked by another sender, unreadable)."""


@dataclass(frozen=True, slots=True)
class ViolationDetail:
    """One contract error: where in the document (a JSON path such as ``$.a[0].b``) and what."""

    json_path: str
    message: str

    def __str__(self) -> str:
        return f"{self.json_path}: {self.message}"


class ContractViolation(HarnessError):
    """A document breaks a contract; ``errors`` lists every violation with its JSON path."""

    def __init__(
        self, contract: str, errors: Sequence[ViolationDetail], *, source: str = ""
    ) -> None:
        self.contract = contract
        self.errors = tuple(errors)
        self.source = source
        where = f"{source}: " if source else ""
        first = self.errors[0] if self.errors else ViolationDetail("$", "invalid")
        more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(f"{where}breaks contract {contract!r} at {first}{more}")


class DeliveryError(HarnessError):
    """Delivery could not complete; events stay in the outbox."""


class AuthRejected(DeliveryError):
    """The destination answered 401 or 403: sending stopped and every event was kept."""

    def __init__(self, status_code: int, *, report: Any = None) -> None:
        self.status_code = status_code
        #: The run's ``DeliveryReport`` up to the stop (``None`` when raised outside a run).
        self.report = report
        meaning = (
            "unauthorized (wrong user name or API token)"
            if status_code == 401
            else ("forbidden (the token's user does not own the workflow)")
        )
        super().__init__(
            f"destination answered {status_code} {meaning}; sending stopped, every event kept "
            "in the outbox for the next run"
        )


class OutboxError(DeliveryError):
    """The outbox stopped accepting writes mid-run (a full disk, an I/O error): sending stopped;
    what was already stored stays for the next run. The message names the state directory and
    the cause; ``report`` is the run's report so far (``None`` outside a run)."""

    def __init__(self, message: str, *, report: Any = None) -> None:
        self.report = report
        super().__init__(message)
