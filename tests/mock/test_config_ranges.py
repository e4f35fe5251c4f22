"""Every mock setting has a range: a value outside it is one line naming the file and the key, exit 2.

Before, ``rate_window = 0`` died with "internal error: ZeroDivisionError", ``history_limit = 0``
acknowledged runs it evicted in the same commit, ``max_body_bytes = 9223372036854775807`` made
every trigger a 500, ``run_delay = nan`` left runs queued forever, ``lockout_failures = -1``
locked a client out after one bad login, and a duplicate workflow id replaced the first silently.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.cli import qharness_text
from support.served import mock_file

from mock_qualtrics import create_app
from mock_qualtrics.config import (
    ConfigError,
    Settings,
    _limit_keys,
    from_tables,
    rule,
    settings_of,
)

BAD_LIMITS = [
    ("rate_window", "0", "must be > 0, got 0"),
    ("rate_window", "-1.5", "must be > 0, got -1.5"),
    ("history_limit", "0", "must be 1 to"),
    ("run_delay", "-1", "must be 0 to 3600, got -1"),
    ("run_delay", "nan", "must be a finite number, got nan"),
    ("run_delay", "inf", "must be a finite number, got inf"),
    ("run_delay", "1e300", "must be 0 to 3600, got 1e+300"),
    ("max_body_bytes", "-5", "must be 1 to"),
    ("max_body_bytes", "9223372036854775807", "must be 1 to 67108864, got 9223372036854775807"),
    ("rate_burst", "0", "must be 1 to"),
    ("lockout_failures", "-1", "must be 1 to"),
    ("lockout_window", "nan", "must be a finite number"),
    ("journal_limit", "0", "must be 1 to"),
    ("daily_run_limit", "0", "must be 1 to"),
    ("max_json_depth", "0", "must be 1 to"),
    ("max_fields", "0", "must be 1 to"),
    ("retention_days", "0", "must be 1 to"),
    ("idempotency_ttl", "0", "must be > 0"),
    ("payload_storage", '"zip"', "must be raw, redacted or none, got 'zip'"),
    ("rate_limit", "true", "expected int, got True"),
]


def _serve(path: Path, *flags: str) -> tuple[int, str, str]:
    return qharness_text("mock", "serve", "--port", "0", "--workflows", str(path), *flags)


@pytest.mark.parametrize(("key", "value", "problem"), BAD_LIMITS, ids=lambda v: str(v))
def test_a_limit_out_of_range_is_one_line_naming_file_and_key(
    tmp_path: Path, key: str, value: str, problem: str
) -> None:
    """``FILE: limits.KEY: must be ..., got VALUE``, exit 2, and the mock never starts."""
    path = mock_file(tmp_path / "mock.toml", f"\n[limits]\n{key} = {value}\n")
    code, out, err = _serve(path)
    assert code == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert f"{path}: limits.{key}: {problem}" in lines[0]


def test_every_problem_is_said_at_once_unknown_keys_first(tmp_path: Path) -> None:
    """Two typos and two values out of range: four lines, the typos (with their did-you-mean)
    first, exit 2; none hidden behind an "and N more"."""
    path = mock_file(
        tmp_path / "mock.toml",
        "\n[limits]\nrate_window = 0\nhistory_limt = 5\nrun_delay = -1\n"
        "[extensions]\nidempotency_key = true\n",
    )
    code, out, err = _serve(path)
    assert (code, out) == (2, "")
    assert err.strip().splitlines() == [
        f"error: {path}: limits.history_limt: unknown limit; did you mean 'history_limit'?",
        f"error: {path}: extensions.idempotency_key: unknown extension; did you mean"
        " 'idempotency_keys'?",
        f"error: {path}: limits.rate_window: must be > 0, got 0",
        f"error: {path}: limits.run_delay: must be 0 to 3600, got -1",
    ]


def test_a_duplicate_workflow_id_names_both_entries(tmp_path: Path) -> None:
    path = mock_file(
        tmp_path / "mock.toml",
        '\n[[workflows]]\nid = "WF"\nname = "again"\nowner = "u@example.com"\n',
    )
    code, _, err = _serve(path)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1
    assert f"{path}: workflows[1].id: 'WF' is also workflows[0]'s id" in err


def test_the_run_delay_flag_and_key_share_one_range(tmp_path: Path) -> None:
    """``--run-delay -1`` is refused as the key is, from the same rule."""
    path = mock_file(tmp_path / "mock.toml")
    code, _, err = _serve(path, "--run-delay", "-1")
    assert code == 2, err
    assert "--run-delay" in err
    assert "0<=x<=3600" in err.replace(" ", "")
    low, high = rule("RUN_DELAY").minimum, rule("RUN_DELAY").maximum
    assert (low, high) == (0, 3600)


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "3600.5"])
def test_the_run_delay_flag_refuses_what_the_key_refuses(tmp_path: Path, value: str) -> None:
    """NaN slips past click's FloatRange (every comparison with NaN is false); the key's rule
    catches it and names the flag."""
    code, out, err = _serve(mock_file(tmp_path / "mock.toml"), "--run-delay", value)
    assert code == 2, err
    assert out == ""
    assert "--run-delay" in err


def test_create_app_refuses_out_of_range_keys_by_name() -> None:
    """Code that builds a mock directly gets the same rule, naming the upper-case key."""
    with pytest.raises(ConfigError, match=r"^RATE_WINDOW: must be > 0, got 0$"):
        create_app({"RATE_WINDOW": 0})


def test_the_app_reads_one_typed_settings_object() -> None:
    app = create_app({"RUN_DELAY": 2, "PUBLIC_HOSTS": ("mock.test",)})
    settings = settings_of(app)
    assert isinstance(settings, Settings)
    assert settings.run_delay == 2.0
    assert isinstance(settings.run_delay, float)
    assert settings.public_hosts == ("mock.test",)
    assert app.config["RUN_DELAY"] == 2.0  # copied for code outside the mock
    assert "secret-admin-token" not in repr(Settings(admin_token="secret-admin-token"))


def test_the_marker_refuses_an_out_of_range_limit(tmp_path: Path) -> None:
    """``@pytest.mark.mock_qualtrics(limits={"rate_window": 0})``: the test fails with the key
    named, no traceback (a separate pytest process: the plugin is the installed entry point)."""
    test = tmp_path / "test_marker.py"
    test.write_text(
        "import pytest\n\n"
        '@pytest.mark.mock_qualtrics(limits={"rate_window": 0})\n'
        "def test_it(mock_qualtrics):\n"
        "    pass\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "@pytest.mark.mock_qualtrics: limits.rate_window: must be > 0, got 0" in done.stdout
    assert "Traceback" not in done.stdout


#: The ``[limits]`` table's numeric keys (the config's own list of them; flags-only settings such
#: as ``TRUST_PROXY`` and the ``[fidelity]`` keys are not limits).
_NUMERIC = [key.lower() for key in _limit_keys() if rule(key).kind in (int, float)]
_VALUES = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 0.0, 1e-300, 3600, 3600.5, 86_400, 10**12, 10**12 + 1]),
)


def _inside(key: str, value: Any) -> bool:
    """The declared range, restated: what the property checks the loader against."""
    r = rule(key.upper())
    if r.kind is int and not isinstance(value, int):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    if r.above is not None and not value > r.above:
        return False
    if r.minimum is not None and value < r.minimum:
        return False
    return r.maximum is None or value <= r.maximum


@given(key=st.sampled_from(_NUMERIC), value=_VALUES)
def test_a_limit_is_accepted_exactly_when_inside_its_range(key: str, value: Any) -> None:
    """Over every numeric limit: accepted values build :class:`Settings`; refused ones name the
    file and the key; nothing else (no NaN, no infinity, no ``True``) slips through."""
    if not _inside(key, value):
        with pytest.raises(ConfigError, match=rf"^F: limits\.{key}: "):
            from_tables({"limits": {key: value}}, "F")
        return
    settings = Settings.from_mapping(from_tables({"limits": {key: value}}, "F"))
    assert getattr(settings, key) == value
