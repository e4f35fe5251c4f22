"""The README's examples run as written (a README that lies is a defect)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from support.paths import EXAMPLE, REPO
from support.paths import README as README_PATH

README = README_PATH.read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def _block(containing: str) -> str:
    [block] = [b for b in BLOCKS if containing in b]
    return block


def test_plugin_example(mock_qualtrics: Any) -> None:
    """The pytest-plugin example passes against the fixture."""
    namespace: dict[str, Any] = {}
    exec(_block("def test_my_sender_triggers_one_run"), namespace)  # noqa: S102 - our own README
    namespace["test_my_sender_triggers_one_run"](mock_qualtrics)


def test_strategies_example(tmp_path: Path, monkeypatch: Any) -> None:
    """The strategies example runs (Hypothesis drives it) against the bundled activation."""
    (tmp_path / "activation.toml").write_bytes(EXAMPLE.read_bytes())
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    exec(_block("from connector.strategies import profiles"), namespace)  # noqa: S102
    namespace["test_every_profile_is_sent_or_excluded_with_a_reason"]()


def _nox_sessions(command: list[str]) -> list[str] | None:
    """The sessions a ``nox`` (or ``python3 -m nox``) command line runs; None if not nox."""
    for prefix in (["nox"], ["python3", "-m", "nox"]):
        if command[: len(prefix)] == prefix:
            args = command[len(prefix) :]
            break
    else:
        return None
    sessions: list[str] = []
    taking = False
    for arg in args:  # `-s a b c` names several sessions; the next flag (or `--`) ends them
        if arg in ("-s", "--session", "--sessions"):
            taking = True
        elif arg.startswith("-"):
            taking = False
        elif taking:
            sessions.append(arg)
    return sessions


def test_quick_start_commands_are_the_documented_ones() -> None:
    """The README's quick-start test command is a command CI runs, and runs the same session."""
    assert "python3 -m pip install . && qharness certify" in README
    [line] = [
        line for line in README.splitlines() if "nox -s tests" in line and "pip install nox" in line
    ]
    readme_commands = [shlex.split(part) for part in line.split("#")[0].split("&&")]
    assert readme_commands == [["python3", "-m", "pip", "install", "nox"], ["nox", "-s", "tests"]]
    documented = _nox_sessions(readme_commands[1])
    assert documented == ["tests"]
    ci_commands = [
        shlex.split(line, comments=True)
        for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip().startswith(("nox ", "python3 -m nox "))
    ]
    ci_sessions = [s for c in ci_commands if (s := _nox_sessions(c)) is not None]
    assert any("tests" in sessions for sessions in ci_sessions), ci_sessions
    # ...and the session exists, and is one a bare `nox` runs too.
    noxfile = (REPO / "noxfile.py").read_text(encoding="utf-8")
    assert "\ndef tests(session: nox.Session)" in noxfile
    assert re.search(r'nox\.options\.sessions = \[[^\]]*"tests"', noxfile)
