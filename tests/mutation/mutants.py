"""Mutants of one Python module, each a small source edit with a stable identity.

Why our own mutator: mutmut 3 instruments functions through trampolines and leaves module-level
code alone, so a rule held in a constant (``_MAX_DEPTH = 32``, ``frozenset({408, 429})``) is
never mutated; cosmic-ray edits the checked-out file in place and keeps its results in a session
database. This walks the AST and edits the source text at the node's exact position, so the diff
of a mutant is one readable line, module-level constants are mutated like any other code, and
a mutant's identity is the module plus a hash of what it changed (not a line number), which
stays put when unrelated code above it moves.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Mutant", "mutants_of"]

_BINOP_SWAPS: dict[type[ast.operator], tuple[str, str]] = {
    ast.Add: ("+", "-"),
    ast.Sub: ("-", "+"),
    ast.Mult: ("*", "/"),
    ast.Div: ("/", "*"),
    ast.FloorDiv: ("//", "/"),
    ast.Mod: ("%", "/"),
    ast.Pow: ("**", "*"),
    ast.LShift: ("<<", ">>"),
    ast.RShift: (">>", "<<"),
    ast.BitAnd: ("&", "|"),
    ast.BitOr: ("|", "&"),
    ast.BitXor: ("^", "&"),
}
_CMP_SWAPS: dict[type[ast.cmpop], tuple[str, str]] = {
    ast.Lt: (r"<", "<="),
    ast.LtE: (r"<=", "<"),
    ast.Gt: (r">", ">="),
    ast.GtE: (r">=", ">"),
    ast.Eq: (r"==", "!="),
    ast.NotEq: (r"!=", "=="),
    ast.In: (r"\bin\b", "not in"),
    ast.NotIn: (r"\bnot\s+in\b", "in"),
    ast.Is: (r"\bis\b", "is not"),
    ast.IsNot: (r"\bis\s+not\b", "is"),
}
_CALL_SWAPS = {"min": "max", "max": "min", "any": "all", "all": "any"}
#: A counted repetition in a regular expression: its bounds are rules too (a DNS label's 63).
_QUANTIFIER = re.compile(r"\{(\d+)(?:,(\d+))?\}")


@dataclass(frozen=True, slots=True)
class Mutant:
    """One edit of ``module``; ``ident`` is ``module:hash`` of the changed text and its scope."""

    module: str
    ident: str
    line: int
    statement_line: int  # the first line of the enclosing statement, as coverage records it
    kind: str
    source: str
    diff: str


@dataclass(frozen=True, slots=True)
class _Edit:
    start: int  # absolute offsets into the source
    end: int
    text: str
    line: int
    kind: str
    scope: str
    statement_line: int = 0


class _Offsets:
    def __init__(self, source: str) -> None:
        self.starts = [0]
        for line in source.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))
        self.source = source

    def at(self, line: int, col: int) -> int:
        # ast columns are UTF-8 byte offsets; convert within the line.
        start = self.starts[line - 1]
        raw = self.source[start : self.starts[line]].encode("utf-8")
        return start + len(raw[:col].decode("utf-8"))


def _skipped_nodes(tree: ast.Module) -> set[int]:
    """Docstrings, annotations, ``__all__``, f-strings, decorators: editing them tests nothing."""
    skip: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(child) for child in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        ):
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                mark(first)
        if isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        if isinstance(node, ast.arg):
            mark(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            mark(node.returns)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for decorator in node.decorator_list:  # @dataclass(slots=True): layout, not a rule
                mark(decorator)
        if isinstance(node, ast.JoinedStr):
            mark(node)
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                mark(node)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"TypeVar", "cast", "NewType"}
        ):
            mark(node)
    return skip


def _scopes(tree: ast.Module) -> tuple[dict[int, str], dict[int, int]]:
    """For each node: the qualified name of the def/class around it (``<module>`` at top level),
    and the first line of its statement (the line coverage reports as run)."""
    names: dict[int, str] = {}
    lines: dict[int, int] = {}

    def visit(node: ast.AST, scope: str, line: int) -> None:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = child.name if scope == "<module>" else f"{scope}.{child.name}"
            names[id(child)] = inner
            here = child.lineno if isinstance(child, ast.stmt) else line
            lines[id(child)] = here
            visit(child, inner, here)

    visit(tree, "<module>", 0)
    return names, lines


def _between(offsets: _Offsets, left: ast.expr, right: ast.expr) -> tuple[int, int]:
    assert left.end_lineno is not None
    assert left.end_col_offset is not None
    return offsets.at(left.end_lineno, left.end_col_offset), offsets.at(
        right.lineno, right.col_offset
    )


def _span(offsets: _Offsets, node: ast.expr | ast.stmt) -> tuple[int, int]:
    assert node.end_lineno is not None
    assert node.end_col_offset is not None
    return offsets.at(node.lineno, node.col_offset), offsets.at(
        node.end_lineno, node.end_col_offset
    )


def _op_edit(
    source: str, start: int, end: int, pattern: str, text: str
) -> tuple[int, int, str] | None:
    """Find the operator between two operands (outside comments) and replace it."""
    gap = source[start:end]
    code = re.sub(r"#[^\n]*", lambda m: " " * len(m.group()), gap)
    escaped = pattern if pattern.startswith("\\") or "\\s" in pattern else re.escape(pattern)
    # "<" must not match the first character of "<=" or "<<"; "*" not the half of "**".
    match = re.search(rf"(?<![<>=!*/]){escaped}(?![<>=*/])", code)
    if match is None:
        return None
    return start + match.start(), start + match.end(), text


def _regex_literals(tree: ast.Module) -> set[int]:
    """String constants passed to ``re.compile``: their quantifier bounds are mutated too."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "compile"
            and node.args
        ):
            found.update(id(child) for child in ast.walk(node.args[0]))
    return found


def _quantifier_edits(offsets: _Offsets, node: ast.Constant, scope: str) -> Iterator[_Edit]:
    start, end = _span(offsets, node)
    for match in _QUANTIFIER.finditer(offsets.source[start:end]):
        for group in (1, 2):
            if match.group(group) is None:
                continue
            bound = int(match.group(group))
            for new in (bound - 1, bound + 1):
                if new >= 0:
                    yield _Edit(
                        start + match.start(group),
                        start + match.end(group),
                        str(new),
                        node.lineno,
                        "regex bound",
                        scope,
                    )


def _edits(source: str, tree: ast.Module) -> Iterator[_Edit]:
    statement_lines = _scopes(tree)[1]
    for edit, node in _node_edits(source, tree):
        yield _Edit(
            edit.start, edit.end, edit.text, edit.line, edit.kind, edit.scope,
            statement_lines.get(id(node), edit.line),
        )  # fmt: skip


def _node_edits(source: str, tree: ast.Module) -> Iterator[tuple[_Edit, ast.AST]]:
    offsets = _Offsets(source)
    skip = _skipped_nodes(tree)
    scopes = _scopes(tree)[0]
    regexes = _regex_literals(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        scope = scopes.get(id(node), "<module>")
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS:
            old, new = _BINOP_SWAPS[type(node.op)]
            found = _op_edit(source, *_between(offsets, node.left, node.right), old, new)
            if found:
                yield _Edit(*found, line=line, kind=f"{old} -> {new}", scope=scope), node
        elif isinstance(node, ast.AugAssign) and type(node.op) in _BINOP_SWAPS:
            old, new = _BINOP_SWAPS[type(node.op)]
            found = _op_edit(
                source, *_between(offsets, node.target, node.value), old + "=", new + "="
            )
            if found:
                yield _Edit(*found, line=line, kind=f"{old}= -> {new}=", scope=scope), node
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for index, op in enumerate(node.ops):
                pattern, new = _CMP_SWAPS[type(op)]
                found = _op_edit(
                    source, *_between(offsets, operands[index], operands[index + 1]), pattern, new
                )
                if found:
                    yield _Edit(*found, line=line, kind=f"compare -> {new}", scope=scope), node
        elif isinstance(node, ast.BoolOp):
            old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
            for left, right in zip(node.values, node.values[1:], strict=False):
                found = _op_edit(source, *_between(offsets, left, right), rf"\b{old}\b", new)
                if found:
                    yield _Edit(*found, line=line, kind=f"{old} -> {new}", scope=scope), node
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
            start, _ = _span(offsets, node)
            operand_start, _ = _span(offsets, node.operand)
            yield _Edit(start, operand_start, "", line, "drop unary", scope), node
        elif isinstance(node, ast.Constant) and not isinstance(node.value, type(Ellipsis)):
            start, end = _span(offsets, node)
            value = node.value
            if isinstance(value, bool):
                text = repr(not value)
            elif isinstance(value, int | float):
                text = repr(value + 1)
            elif isinstance(value, str):
                text = repr("XX" + value + "XX")
            elif isinstance(value, bytes):
                text = repr(b"XX" + value + b"XX")
            else:
                continue
            yield _Edit(start, end, text, line, "constant", scope), node
            if id(node) in regexes and isinstance(value, str):
                yield from ((edit, node) for edit in _quantifier_edits(offsets, node, scope))
        elif isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                start, end = _span(offsets, node.value)
                yield _Edit(start, end, "None", line, "return None", scope), node
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _CALL_SWAPS
        ):
            start, end = _span(offsets, node.func)
            yield _Edit(start, end, _CALL_SWAPS[node.func.id], line, "call swap", scope), node


def _normalized(lines: list[str]) -> str:
    return "\n".join(line.strip() for line in lines)


def mutants_of(module: str, source: str) -> list[Mutant]:
    """Every mutant of ``source`` (the text of ``module``, a repo-relative path) that compiles."""
    tree = ast.parse(source)
    original = source.splitlines(keepends=True)
    seen: dict[str, int] = {}
    result: list[Mutant] = []
    for edit in sorted(_edits(source, tree), key=lambda e: (e.start, e.end, e.text)):
        mutated = source[: edit.start] + edit.text + source[edit.end :]
        if mutated == source:
            continue
        try:
            compile(mutated, module, "exec")
        except SyntaxError:
            continue
        changed = mutated.splitlines(keepends=True)
        matcher = difflib.SequenceMatcher(a=original, b=changed, autojunk=False)
        removed: list[str] = []
        added: list[str] = []
        for tag, a0, a1, b0, b1 in matcher.get_opcodes():
            if tag != "equal":
                removed += original[a0:a1]
                added += changed[b0:b1]
        key = f"{edit.scope}\n{_normalized(removed)}\n->\n{_normalized(added)}"
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
        seen[digest] = seen.get(digest, 0) + 1
        ident = f"{module}:{digest}" + (f"-{seen[digest]}" if seen[digest] > 1 else "")
        diff = "".join(difflib.unified_diff(original, changed, f"a/{module}", f"b/{module}", n=1))
        result.append(
            Mutant(module, ident, edit.line, edit.statement_line, edit.kind, mutated, diff)
        )
    return result
