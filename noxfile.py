"""Development sessions: ``nox -s tests`` is the suite CI and the README run.

Dependencies come from ``pyproject.toml``'s ``[dependency-groups]``, so there is one list of them.
Slow sessions (benchmarks, fuzzing, the full soak) are ``default=False``: run them by name.
``tests`` runs once per Python version in ``PYTHONS`` that is installed (on ``PATH`` or under
pyenv); in CI (``$CI`` set) a missing one is an error instead, so CI always covers all three.
"""

from __future__ import annotations

import glob
import os
import shutil

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typing", "security", "tests"]

PYPROJECT = nox.project.load_toml("pyproject.toml")

#: The versions the suite is tested on; pyproject's classifiers list the same (a test checks).
PYTHONS = ["3.11", "3.12", "3.13"]
#: Coverage is measured on one version only (the others run the plain suite, to keep CI short).
COVERAGE_PYTHON = "3.11"


def _pyenv_bins() -> list[str]:
    """pyenv's interpreter directories (newest patch release first), so nox finds python3.12
    there without a shim or a global pyenv setting."""
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    found = []
    for version in PYTHONS:
        releases = sorted(
            glob.glob(os.path.join(root, "versions", f"{version}.*", "bin")),
            key=lambda path: [int(p) for p in path.split(os.sep)[-2].split(".") if p.isdigit()],
        )
        found += releases[-1:]
    return found


os.environ["PATH"] = os.pathsep.join([os.environ.get("PATH", ""), *_pyenv_bins()])


def _installed(versions: list[str]) -> list[str]:
    if os.environ.get("CI"):
        return versions
    return [version for version in versions if shutil.which(f"python{version}")] or versions


def _group(name: str) -> list[str]:
    return list(PYPROJECT["dependency-groups"][name])


@nox.session(python=_installed(PYTHONS))
def tests(session: nox.Session) -> None:
    """The test suite on each installed Python; on 3.11 with branch coverage over connector/
    and mock_qualtrics/ (the others run it plainly)."""
    session.install(".", *_group("test"))
    profile = "ci" if os.environ.get("CI") else "default"
    session.env.setdefault("HYPOTHESIS_PROFILE", os.environ.get("HYPOTHESIS_PROFILE", profile))
    args = session.posargs or ["-n", "2"]
    if session.python != COVERAGE_PYTHON:
        # The other Pythons run every test but the few marked slow (nested pytest runs, the
        # schemathesis CLI): those check our code, not the interpreter, and run on 3.11; this
        # keeps .ci/run, which runs all three, near its 20 minutes.
        session.run("python", "-m", "pytest", *(session.posargs or [*args, "-m", "not slow"]))
        return
    # coverage runs pytest (not pytest-cov), so modules that pytest's plugins import before any
    # test starts are measured too; the xdist workers and CLI subprocesses are measured through
    # coverage's subprocess patch (pyproject: [tool.coverage.run] patch).
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", *args)
    session.run("coverage", "combine", "--quiet")
    session.run("coverage", "report")


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


@nox.session
def security(session: nox.Session) -> None:
    """bandit over our code (every skip carries its reason), pip-audit over the runtime deps."""
    session.install(".")
    # Audit exactly what a user's `pip install .` brings in, frozen before the tools arrive.
    frozen = session.run("python", "-m", "pip", "freeze", "--exclude-editable", silent=True) or ""
    runtime = [
        line
        for line in str(frozen).splitlines()
        if "==" in line and not line.startswith("qualtrics-harness")
    ]
    requirements = os.path.join(session.create_tmp(), "runtime-requirements.txt")
    with open(requirements, "w", encoding="utf-8") as handle:
        handle.write("\n".join(runtime) + "\n")
    session.install(*_group("security"))
    # bandit's report goes to a file: on stderr it also warns "nosec encountered ... but no failed
    # test" for every line of a multi-line statement whose (needed) nosec sits on another line,
    # dozens of lines that say nothing. The report is printed, and any issue in it fails here.
    report = os.path.join(session.create_tmp(), "bandit.txt")
    session.run(
        "bandit", "-q", "-c", "pyproject.toml", "-r", "connector", "mock_qualtrics", "contracts",
        "-f", "txt", "-o", report,
        silent=True, success_codes=[0, 1],
    )  # fmt: skip
    with open(report, encoding="utf-8") as handle:
        text = handle.read()
    if ">> Issue:" in text:
        print(text)
        session.error("bandit found the issues above")
    session.log("bandit: no issues (each skip in the code carries its reason)")
    # pip-audit's own output (a line per pin it could not audit) is kept quiet; its JSON goes to
    # .ci/audit_latest.py, which audits those pins another way and prints one line per problem
    # and a one-line summary (exit 1 on any known vulnerability).
    findings = os.path.join(session.create_tmp(), "pip-audit.json")
    session.run(
        "pip-audit", "--progress-spinner", "off", "--disable-pip", "--no-deps", "-r", requirements,
        "--format", "json", "--output", findings,
        silent=True, success_codes=[0, 1],
    )  # fmt: skip
    session.run("python", ".ci/audit_latest.py", requirements, "--pip-audit-json", findings)


@nox.session(default=False)
def soak(session: nox.Session) -> None:
    """The mock under several senders and random faults (120 s; `-- --seconds 15` in CI)."""
    session.install(".")
    session.run("python", "tests/soak/soak.py", *(session.posargs or ["--seconds", "120"]))


@nox.session(default=False)
def fuzz(session: nox.Session) -> None:
    """Fuzz every input parser for 60 s each (atheris; Hypothesis where atheris will not install)."""
    session.install(".")
    try:
        session.install("atheris")
    except Exception:
        session.log("atheris did not install; fuzzing with Hypothesis")
    session.run("python", "tests/fuzz/fuzz_targets.py", *session.posargs)


@nox.session(default=False)
def image(session: nox.Session) -> None:
    """Build the two container images (podman, local Debian base) and check them over 127.0.0.1.

    Needs podman, runc and mmdebstrap (Debian packages); prints sizes, build times and the time
    to the first HTTP 200. `-- --base python:3.12-slim` builds on the registry's base instead.
    This venv holds the testcontainers extra: the README's Testcontainers script runs in it.
    """
    session.install(".[testcontainers]")
    session.run("python", "tests/image/image_check.py", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks: each prints its rate beside a baseline measured in the same run.

    The figures are informational: a shared machine makes timings noisy, so a benchmark below
    its target never fails this session (tests never assert timings either)."""
    session.install(".", *_group("test"), *_group("bench"))
    session.log("benchmark figures are informational: a result below target does not fail")
    # WireMock, a column of mock_throughput.py, if npm can fetch it (else that column is skipped).
    if shutil.which("npm") and shutil.which("java"):
        node = os.path.join(session.virtualenv.location, "wiremock")
        session.run(
            "npm", "install", "--prefix", node, "--no-audit", "--no-fund", "wiremock@3.13.2",
            external=True, success_codes=[0, 1],
        )  # fmt: skip
        session.env["WIREMOCK_HOME"] = node
    # `nox -s bench -- --quick`: a smoke run of the scripts that have a quick mode.
    quick = "--quick" in session.posargs
    args = [arg for arg in session.posargs if arg != "--quick"]
    for script in sorted(os.listdir("benchmarks")):
        if script.endswith(".py") and not script.startswith("_"):
            more = ["--quick"] if quick and script in _QUICK_BENCHMARKS else []
            session.run("python", f"benchmarks/{script}", *args, *more)


#: Benchmarks with a ``--quick`` smoke mode (the sustained and history-size ones take minutes).
_QUICK_BENCHMARKS = {"mock_throughput.py", "mock_history_scale.py", "fixture_cost.py"}


@nox.session(default=False)
def mutate(session: nox.Session) -> None:
    """Mutation testing of the rule modules, each against its own tests (tests/mutation/)."""
    session.install(".", *_group("test"))
    session.run("python", "tests/mutation/run.py", *session.posargs)
