"""A workflow field's plain path, read by dictionary look-ups, means what the library reads.

The mock resolves ``$.name[0].name`` paths itself and leaves them uncompiled until the library
is needed; both are safe only if every plain path is JSONPath the library takes, with the same
first match in any document.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import jsonpath
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mock_qualtrics.jsonpath_fields import FieldSpec, simple_steps

#: A few names, so that generated documents hold the paths' names often enough to match.
_NAMES = st.sampled_from(["a", "b", "Email", "id", "_x", "true", "null", "length", "in"])
_STEPS = st.lists(st.one_of(_NAMES, st.integers(0, 2)), min_size=1, max_size=4)
_DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 2) | st.text(max_size=2),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_NAMES, inner, max_size=3),
    max_leaves=12,
)


def _path(steps: list[str | int]) -> str:
    return "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)


def _library(path: str, document: Any) -> tuple[bool, Any]:
    """The library's first match; in a string nothing, as RFC 9535 says (the library would parse
    the string as JSON: the mock does not let it, see the rule test of a twice-encoded body)."""
    if isinstance(document, str):
        return False, None
    match = jsonpath.compile(path).match(document)
    return (False, None) if match is None else (True, match.obj)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=_STEPS, document=_DOCUMENTS)
@example(steps=["a", 0], document={"a": {"0": 1}})  # an index applied to an object
@example(steps=["a", 1], document={"a": "xy"})  # an index applied to a string
@example(steps=["length"], document=[1, 2])  # a name applied to a list
def test_a_plain_path_finds_what_the_library_finds(steps: list[str | int], document: Any) -> None:
    path = _path(steps)
    assert simple_steps(path) == tuple(steps)
    assert FieldSpec("f", path).first_match(document) == _library(path, document)


def test_a_path_the_look_ups_cannot_read_is_compiled_when_saved() -> None:
    assert simple_steps("$.a[*].b") is None
    spec = FieldSpec("f", "$.a[*].b")
    assert spec.first_match({"a": [{"c": 1}, {"b": 2}]}) == (True, 2)


def test_plain_paths_never_load_the_library() -> None:
    """Importing python-jsonpath costs 45-55 ms: a mock whose workflows have plain paths, the
    usual case, serves its runs without it."""
    script = textwrap.dedent(
        """
        import sys
        from mock_qualtrics.jsonpath_fields import FieldSpec, extract

        spec = FieldSpec("email", "$.identityMap.Email[0].id", required=True)
        assert extract([spec], {"identityMap": {"Email": [{"id": "a"}]}}) == ({"email": "a"}, None)
        assert extract([spec], {})[1]  # a required field that matched nothing
        assert "jsonpath" not in sys.modules
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
