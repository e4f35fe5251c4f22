"""The wheel ships the bundled example activation once, and an installed harness finds it."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from support.paths import EXAMPLE, REPO

from connector.example import bundled_activation_bytes

ROOT = REPO


def test_checkout_reads_the_example_in_examples() -> None:
    """From a checkout (or an editable install) the bundled example is examples/activation.toml."""
    assert bundled_activation_bytes() == EXAMPLE.read_bytes()
    assert not (ROOT / "connector" / "bundled").exists(), "the example must exist once"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, hatchling.build as b; print(b.build_wheel(sys.argv[1]))",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out / built.stdout.strip().splitlines()[-1]


def test_wheel_carries_the_example_beside_the_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert archive.read("connector/bundled/activation.toml") == EXAMPLE.read_bytes()
    assert [n for n in names if n.endswith("activation.toml")] == [
        "connector/bundled/activation.toml"
    ]


def test_installed_wheel_finds_the_example_from_another_directory(
    wheel: Path, tmp_path: Path
) -> None:
    """Unpacked as pip would install it, used from elsewhere: no checkout to fall back on."""
    site = tmp_path / "site-packages"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import connector.example as e, sys; "
        "assert 'site-packages' in e.__file__, e.__file__; "
        "sys.stdout.buffer.write(e.bundled_activation_bytes())"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        check=True,
    )
    assert result.stdout == EXAMPLE.read_bytes()


def test_the_image_build_context_holds_what_the_wheel_force_includes() -> None:
    """The Containerfile builds the wheel too: each force-included file is copied and not ignored."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    forced = project["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    containerfile = (ROOT / "Containerfile").read_text(encoding="utf-8")
    ignore = (ROOT / ".containerignore").read_text(encoding="utf-8").splitlines()
    assert forced, "the wheel force-includes nothing: the bundled example would be missing"
    for source in forced:
        assert f"COPY {source} ./{source}" in containerfile, source
        assert f"!{source}" in ignore, source


def test_classifiers_name_the_tested_pythons() -> None:
    """pyproject's version classifiers are the versions `nox -s tests` and CI run (noxfile's
    PYTHONS), and requires-python admits the oldest of them."""
    import ast

    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    [tested] = [
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "PYTHONS" for t in node.targets)
    ]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    prefix = "Programming Language :: Python :: "
    classified = [
        c.removeprefix(prefix)
        for c in project["classifiers"]
        if c.startswith(prefix) and c.removeprefix(prefix)[:1].isdigit() and "." in c
    ]
    assert classified == tested
    assert project["requires-python"] == f">={tested[0]}"
