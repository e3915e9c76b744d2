"""Diagnostics: what is wrong in a notebook, and exactly where.

A warning leaves the notebook harvestable; an error keeps that notebook out of the graph
(every other notebook is still written).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    code: str
    message: str
    file: str
    cell: int | None = None
    """Index of the cell in the notebook, counted from 1 as a reader counts them."""
    line: int | None = None
    """Line within the cell, counted from 1."""

    @property
    def where(self) -> str:
        parts = [self.file]
        if self.cell is not None:
            parts.append(f"cell {self.cell}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.where}: {self.severity}: {self.message} [{self.code}]"

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": str(self.severity),
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "cell": self.cell,
            "line": self.line,
        }


@dataclass(frozen=True)
class Problem:
    """A diagnostic before it is placed in a file: the parsers that find problems know the
    line within their text, the notebook reader knows the file and cell."""

    severity: Severity
    code: str
    message: str
    line: int | None = None

    def at(self, file: str, cell: int | None = None, first_line: int = 1) -> Diagnostic:
        line = None if self.line is None else self.line + first_line - 1
        return Diagnostic(self.severity, self.code, self.message, file, cell, line)


def warning(code: str, message: str, line: int | None = None) -> Problem:
    return Problem(Severity.WARNING, code, message, line)


def error(code: str, message: str, line: int | None = None) -> Problem:
    return Problem(Severity.ERROR, code, message, line)
