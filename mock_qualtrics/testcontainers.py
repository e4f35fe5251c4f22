"""The mock as a Testcontainers module: a fresh container per test session (or per test).

``pip install "qualtrics-harness[testcontainers]"``, then::

    with QualtricsMockContainer("qualtrics-mock:0.1.0") as mock:
        admin = mock.admin()                      # MockAdmin, the admin token included
        admin.add_user("me@example.com", "my-token")
        workflow = admin.create_workflow("CSAT", owner="me@example.com")
        ...                                       # POST to workflow["trigger_url"] from the host

It follows the shape of testcontainers' own modules: a :class:`DockerContainer` subclass whose
constructor takes the service's options and whose ``start()`` returns only once the service
answers, here ``GET /__admin/health``. Either image of the project's Containerfile works
(``mock``, the slim one, or ``full``): both run the same entrypoint.

- **Admin token.** The container listens on 0.0.0.0 inside its network namespace, where the mock
  insists on an admin token of at least 16 characters; one is generated when none is given. It
  reaches the container as an environment variable, never in argv, and never in ``repr``.
- **Trigger URLs from the host's side.** The mock builds ``trigger_url`` from the ``Host`` a
  request names. The admin client asks through :meth:`get_base_url` (the mapped host and port),
  and the container is started without ``--public-host`` names, so every URL the admin API hands
  out is one the host can post to, whatever port was mapped.
- **Workflows.** ``workflows=PATH`` mounts a TOML file (users, workflows, limits) read-only at
  ``/config/workflows.toml``, where the image's entrypoint reads it.

The pytest fixture ``mock_qualtrics_container`` (session-scoped) starts ``$QHARNESS_MOCK_IMAGE``
(default :data:`DEFAULT_IMAGE`); enable it with ``pytest_plugins = ["mock_qualtrics.testcontainers"]``
in the root ``conftest.py``. Against podman, point ``DOCKER_HOST`` at ``podman system service``'s
socket and set ``TESTCONTAINERS_RYUK_DISABLED=true`` (the README's container section says how).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from testcontainers.core.container import DockerContainer

from .client import MockAdmin, MockAdminError

__all__ = [
    "CONTAINER_PORT",
    "DEFAULT_IMAGE",
    "IMAGE_ENV",
    "QualtricsMockContainer",
    "mock_qualtrics_container",
]

#: The port the image's mock listens on, inside the container.
CONTAINER_PORT = 8080
#: What the README's build tags the `mock` target as.
DEFAULT_IMAGE = f"qualtrics-mock:{version('qualtrics-harness')}"
#: The fixture's image comes from this variable when it is set.
IMAGE_ENV = "QHARNESS_MOCK_IMAGE"
#: Where the image's entrypoint reads a workflows file and the admin token.
_WORKFLOWS_IN_CONTAINER = "/config/workflows.toml"
_TOKEN_ENV = "QHARNESS_MOCK_ADMIN_TOKEN"  # noqa: S105 - a name, not a token  # nosec B105
_MIN_TOKEN = 16


class QualtricsMockContainer(DockerContainer):
    """The Qualtrics mock in a container, ready once ``start()`` (or ``with``) returns.

    ``image``: a build of the project's Containerfile (target ``mock`` or ``full``).
    ``workflows``: a TOML file of users, workflows and limits, mounted read-only.
    ``admin_token``: the mock's admin token (16+ characters); generated when ``None``.
    ``run_delay``: seconds a run stays queued (the image's default: 0.5).
    ``startup_timeout``: seconds to wait for ``/__admin/health``.
    Other keyword arguments go to :class:`DockerContainer`.
    """

    def __init__(
        self,
        image: str = DEFAULT_IMAGE,
        *,
        workflows: str | os.PathLike[str] | None = None,
        admin_token: str | None = None,
        run_delay: float | None = None,
        startup_timeout: float = 60.0,
        **kwargs: Any,
    ) -> None:
        # Every argument is checked before the Docker client connects, so a mistake is told
        # as such even where no Docker daemon (or podman socket) is reachable.
        token = admin_token if admin_token is not None else secrets.token_hex(16)
        if len(token) < _MIN_TOKEN:
            raise ValueError(
                f"admin_token is {len(token)} characters; the mock in a container needs at "
                f"least {_MIN_TOKEN} (or pass none and one is generated)"
            )
        path = Path(workflows).resolve() if workflows is not None else None
        if path is not None and not path.is_file():
            raise FileNotFoundError(f"workflows file {str(path)!r} does not exist")
        if run_delay is not None and not 0 <= run_delay <= 3600:
            raise ValueError(f"run_delay must be 0 to 3600 seconds, got {run_delay!r}")
        super().__init__(image, **kwargs)
        self._admin_token = token
        self.startup_timeout = startup_timeout
        self.with_exposed_ports(CONTAINER_PORT)
        self.with_env(_TOKEN_ENV, token)
        if path is not None:
            self.with_volume_mapping(str(path), _WORKFLOWS_IN_CONTAINER, "ro")
        if run_delay is not None:  # options are appended to `qharness mock serve`
            self.with_command(["--run-delay", repr(float(run_delay))])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(image={self.image!r})"

    @property
    def admin_token(self) -> str:
        """The mock's admin token: the admin API's Bearer token, the UI's Basic password."""
        return self._admin_token

    def get_base_url(self) -> str:
        """``http://HOST:PORT`` of the mock as the host reaches it (the mapped port)."""
        host = self.get_container_host_ip()
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.get_exposed_port(CONTAINER_PORT)}"

    def admin(self) -> MockAdmin:
        """A client of the admin API with the token; the caller closes it (or lets it go)."""
        return MockAdmin(self.get_base_url(), admin_token=self._admin_token)

    def start(self) -> QualtricsMockContainer:
        super().start()
        self._wait_for_health()
        return self

    def _wait_for_health(self) -> None:
        """Poll ``/__admin/health`` until it answers; fail early, with the log, if the mock
        exits (a wrong token, a bad workflows file)."""
        deadline = time.monotonic() + self.startup_timeout
        problem = "no answer yet"
        while time.monotonic() < deadline:
            wrapped = self.get_wrapped_container()
            wrapped.reload()
            if wrapped.status in ("exited", "dead"):
                stdout, stderr = self.get_logs()
                log = (stdout + stderr).decode(errors="replace").strip()[-500:]
                raise RuntimeError(f"the mock's container {self.image!r} exited: {log}")
            client = MockAdmin(self.get_base_url())
            try:
                client.health()
                return
            except MockAdminError as exc:
                problem = str(exc)
            finally:
                client.close()
            time.sleep(0.1)
        raise TimeoutError(
            f"the mock in {self.image!r} did not answer /__admin/health within "
            f"{self.startup_timeout:g} s: {problem}"
        )


@pytest.fixture(scope="session")
def mock_qualtrics_container() -> Iterator[QualtricsMockContainer]:
    """The mock in a container for the test session (``$QHARNESS_MOCK_IMAGE``, default
    :data:`DEFAULT_IMAGE`). Tests share it: each creates its own user and workflow."""
    with QualtricsMockContainer(os.environ.get(IMAGE_ENV) or DEFAULT_IMAGE) as container:
        yield container
