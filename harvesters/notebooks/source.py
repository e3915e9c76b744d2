"""Static reading of a code cell: its top-level assignments and the comments around them.

The cell is never executed. Values are read with `ast.literal_eval`, comments with
`tokenize`, so a comment on any line of a multi-line assignment belongs to it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from .diagnostics import Problem, error, warning

#: Lines IPython accepts but Python does not (`%matplotlib inline`, `!pip install ...`).
_IPYTHON_LINE = re.compile(r"^\s*[%!]")


class NotLiteral:
    """Marks a default that is an expression rather than a literal value."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __repr__(self) -> str:
        return f"NotLiteral({self.source!r})"


@dataclass
class Assignment:
    name: str
    value: object
    """The literal value, or a `NotLiteral` for an expression."""
    line: int
    """First line of the statement within the cell, from 1."""
    python_type: str | None = None
    """The type annotation's source text (`float | None`), when annotated."""
    comments: list[tuple[int, str]] = field(default_factory=list)
    """(line, text without '#') for each comment inside the statement's lines."""


@dataclass
class CellSource:
    assignments: list[Assignment]
    standalone_comments: list[tuple[int, str]]
    problems: list[Problem]


def read_cell(source: str) -> CellSource:
    """Assignments of a cell in order, and the comments standing on lines of their own."""
    lines = ["" if _IPYTHON_LINE.match(line) else line for line in source.splitlines()]
    text = "\n".join(lines)
    try:
        module = ast.parse(text)
    except SyntaxError as exc:
        message = f"syntax error: {exc.msg}"
        return CellSource([], [], [error("syntax-error", message, exc.lineno)])
    comments = _comments(text)
    assignments: list[Assignment] = []
    problems: list[Problem] = []
    claimed: set[int] = set()
    for node in module.body:
        span = range(node.lineno, (node.end_lineno or node.lineno) + 1)
        claimed.update(span)
        assignment = _assignment(node, lines, problems)
        if assignment is None:
            continue
        assignment.comments = [(n, comments[n]) for n in span if n in comments]
        assignments.append(assignment)
    standalone = [(n, c) for n, c in sorted(comments.items()) if n not in claimed]
    return CellSource(assignments, standalone, problems)


def _comments(text: str) -> dict[int, str]:
    """Comments by line. The cell already parsed, so a scan that steps over string literals
    finds exactly the comments `tokenize` would, several times faster."""
    found: dict[int, str] = {}
    for match in _STRING_OR_COMMENT.finditer(text):
        if match.lastgroup == "comment":
            found[text.count("\n", 0, match.start()) + 1] = match.group()[1:].strip()
    return found


_STRING_OR_COMMENT = re.compile(
    r'(?P<string>"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')'
    r"|(?P<comment>#[^\n]*)"
)


def _segment(lines: list[str], node: ast.AST) -> str:
    """The source text of `node` (what `ast.get_source_segment` gives, without re-splitting the
    cell for every call). Column offsets are UTF-8 byte offsets."""
    first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined]
    start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
    if first == last:
        return lines[first].encode()[start:end].decode()
    head = lines[first].encode()[start:].decode()
    tail = lines[last].encode()[:end].decode()
    return "\n".join([head, *lines[first + 1 : last], tail])


def _assignment(node: ast.stmt, lines: list[str], problems: list[Problem]) -> Assignment | None:
    if isinstance(node, ast.Assign):
        targets, value, annotation = node.targets, node.value, None
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets, value, annotation = [node.target], node.value, node.annotation
    else:
        return None
    if len(targets) != 1 or not isinstance(targets[0], ast.Name):
        problems.append(
            warning("unsupported-assignment", "only `name = value` assignments are parameters", node.lineno)
        )
        return None
    python_type = _segment(lines, annotation) if annotation is not None else None
    return Assignment(targets[0].id, _literal(value, lines), node.lineno, python_type)


def _literal(node: ast.expr, lines: list[str]) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return NotLiteral(_segment(lines, node))
