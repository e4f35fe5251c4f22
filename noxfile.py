"""Development sessions: ``nox -s tests`` is the suite CI and the README run.

Dependencies come from ``pyproject.toml``'s ``[dependency-groups]``, so there is one list of them.
Slow sessions (benchmarks, fuzzing, the full soak) are ``default=False``: run them by name.
"""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typing", "tests"]

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _group(name: str) -> list[str]:
    return list(PYPROJECT["dependency-groups"][name])


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite, with branch coverage over connector/ and mock_qualtrics/."""
    session.install(".", *_group("test"))
    profile = "ci" if os.environ.get("CI") else "default"
    session.env.setdefault("HYPOTHESIS_PROFILE", os.environ.get("HYPOTHESIS_PROFILE", profile))
    args = session.posargs or ["-n", "2"]
    session.run(
        "pytest",
        "--cov=connector",
        "--cov=mock_qualtrics",
        "--cov-branch",
        "--cov-report=term:skip-covered",
        *args,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict over the packages."""
    session.install(".", *_group("typing"))
    session.run("mypy")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks: each prints its rate beside a baseline measured in the same run."""
    session.install(".", *_group("test"))
    for script in sorted(os.listdir("benchmarks")):
        if script.endswith(".py") and not script.startswith("_"):
            session.run("python", f"benchmarks/{script}", *session.posargs)
