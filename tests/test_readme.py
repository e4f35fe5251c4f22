"""The README's examples run as written (a README that lies is a defect)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
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
    example = Path(__file__).resolve().parent.parent / "examples" / "activation.toml"
    (tmp_path / "activation.toml").write_bytes(example.read_bytes())
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    exec(_block("from connector.strategies import profiles"), namespace)  # noqa: S102
    namespace["test_every_profile_is_sent_or_excluded_with_a_reason"]()


def test_quick_start_commands_are_the_documented_ones() -> None:
    """The two quick-start commands are the ones the README and .ci/run rely on."""
    assert "python3 -m pip install . && qharness certify" in README
    assert "python3 -m pip install nox && nox -s tests" in README
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "nox -s" in ci
    assert "tests" in ci
