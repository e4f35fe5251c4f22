"""Request and run ids: random UUID4s without a system call per id.

``uuid.uuid4()`` reads ``os.urandom`` each time, which was 0.1 ms a call here (a third of a
trigger request's time). Request and run ids are identifiers, not secrets, so they come from a
``random.Random`` seeded once from the OS; ``urlTokenId`` values, which are secret-like, still use
``uuid.uuid4()``.
"""

from __future__ import annotations

import os
import random
import uuid

__all__ = ["new_id"]

_rng = random.Random(os.urandom(32))  # noqa: S311 - ids, not secrets (see above)  # nosec B311


def new_id() -> str:
    """A random version-4 UUID string."""
    return str(uuid.UUID(int=_rng.getrandbits(128), version=4))
