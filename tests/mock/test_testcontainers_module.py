"""``mock_qualtrics.testcontainers`` without a container: what it exports, and the argument
mistakes it tells before any Docker client connects (so they read the same on a machine without
Docker). Starting the image, creating a workflow and triggering a run from the host is
``nox -s image``'s check (tests/image/testcontainers_check.py), against podman's socket."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_qualtrics import testcontainers
from mock_qualtrics.testcontainers import QualtricsMockContainer


def test_exports() -> None:
    assert testcontainers.__all__ == [
        "CONTAINER_PORT",
        "DEFAULT_IMAGE",
        "IMAGE_ENV",
        "QualtricsMockContainer",
        "mock_qualtrics_container",
    ]
    assert testcontainers.DEFAULT_IMAGE.startswith("qualtrics-mock:")


def test_a_short_admin_token_is_refused_without_showing_it() -> None:
    with pytest.raises(ValueError, match="admin_token is 15 characters") as caught:
        QualtricsMockContainer("qualtrics-mock:0.1.0", admin_token="s3cret-15-chars")
    assert "s3cret" not in str(caught.value)


def test_a_missing_workflows_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(FileNotFoundError, match=f"workflows file {str(missing)!r} does not exist"):
        QualtricsMockContainer("qualtrics-mock:0.1.0", workflows=missing)


@pytest.mark.parametrize("delay", [-0.1, 3600.5])
def test_a_run_delay_out_of_range_is_refused(delay: float) -> None:
    with pytest.raises(ValueError, match=f"run_delay must be 0 to 3600 seconds, got {delay!r}"):
        QualtricsMockContainer("qualtrics-mock:0.1.0", run_delay=delay)
