"""One notebook file in, one workflow description and its diagnostics out."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from kg.iris import workflow_iri, workflow_key
from kg.ontology import Ontology

from .diagnostics import Diagnostic, Problem, Severity, error, warning
from .interpret import describe_output, describe_parameter
from .model import Parameter, Repository, Workflow
from .source import NotLiteral, read_cell
from .statements import parse_statements

PARAMETERS, OUTPUTS, INJECTED = "parameters", "outputs", "injected-parameters"


@dataclass
class NotebookResult:
    file: str
    """The notebook's path as the user knows it, used in every message."""
    workflow: Workflow | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    papermill_output: bool = False

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return self.workflow is not None and not self.errors


@dataclass
class Cell:
    number: int
    """Position among all cells, from 1."""
    source: str
    tags: frozenset[str]


def load_cells(path: Path, display: str) -> tuple[list[Cell], dict, list[Diagnostic]]:
    """The code cells and metadata of a notebook file, or the reason it cannot be read."""
    try:
        with path.open("rb") as handle:
            notebook = json.load(handle)
    except json.JSONDecodeError as exc:
        message = f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno} of the file)"
        return [], {}, [error("invalid-json", message).at(display, None)]
    except (OSError, UnicodeDecodeError) as exc:
        return [], {}, [error("unreadable", f"cannot read the notebook: {exc}").at(display, None)]
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        return (
            [],
            {},
            [error("not-a-notebook", "not a Jupyter notebook (no list of cells)").at(display, None)],
        )
    if notebook.get("nbformat") != 4:
        message = f"nbformat {notebook.get('nbformat')} is not supported; save it as nbformat 4"
        return [], {}, [error("nbformat", message).at(display, None)]
    cells = []
    for number, cell in enumerate(notebook["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        tags = (cell.get("metadata") or {}).get("tags") or ()
        cells.append(
            Cell(number, "".join(source) if isinstance(source, list) else str(source), frozenset(tags))
        )
    return cells, notebook.get("metadata") or {}, []


def is_papermill_output(cells: list[Cell], metadata: dict) -> bool:
    papermill = metadata.get("papermill")
    return (isinstance(papermill, dict) and "output_path" in papermill) or any(
        INJECTED in c.tags for c in cells
    )


def content_hash(cells: list[Cell]) -> str:
    """Hash of the code cells only, so saving outputs or metadata does not change it.
    Papermill's injected cell is left out: an output notebook hashes like its input."""
    digest = hashlib.sha256()
    for cell in cells:
        if INJECTED not in cell.tags:
            digest.update(cell.source.encode())
            digest.update(b"\x1e")
    return f"sha256:{digest.hexdigest()}"


def describe_notebook(
    path: Path, display: str, repository: Repository, notebook_path: str, ontology: Ontology
) -> NotebookResult:
    """Read a notebook statically; the workflow is set even with errors, for reporting."""
    result = NotebookResult(display)
    cells, metadata, result.diagnostics = load_cells(path, display)
    if result.diagnostics:
        return result
    result.papermill_output = is_papermill_output(cells, metadata)
    name = Path(notebook_path).stem
    key = workflow_key(repository.iri, notebook_path)
    workflow = Workflow(
        key=key,
        name=name,
        notebook_path=notebook_path,
        repository=repository,
        content_hash=content_hash(cells),
        is_test=name.startswith("test_"),
    )
    report = result.diagnostics.append
    tagged = {tag: [c for c in cells if tag in c.tags] for tag in (PARAMETERS, OUTPUTS, INJECTED)}
    if not tagged[PARAMETERS]:
        report(
            warning(
                "no-parameters-cell", "no cell is tagged `parameters`: the workflow takes no parameters"
            ).at(display, None)
        )
    for tag in (PARAMETERS, OUTPUTS):
        for extra in tagged[tag][1:]:
            report(
                warning(f"extra-{tag}-cell", f"another cell tagged `{tag}`; only the first is read").at(
                    display, extra.number
                )
            )
    if tagged[PARAMETERS]:
        cell = tagged[PARAMETERS][0]
        problems = _read_parameters(cell, workflow, ontology)
        result.diagnostics += [p.at(display, cell.number) for p in problems]
    if tagged[INJECTED]:
        cell = tagged[INJECTED][0]
        result.diagnostics += [p.at(display, cell.number) for p in _inject(cell, workflow.parameters)]
    if tagged[OUTPUTS]:
        cell = tagged[OUTPUTS][0]
        content = read_cell(cell.source)
        problems = list(content.problems)
        for assignment in content.assignments:
            output, found = describe_output(assignment, ontology)
            workflow.outputs.append(output)
            problems += [_placed(p, assignment.line) for p in found]
        result.diagnostics += [p.at(display, cell.number) for p in problems]
    result.workflow = workflow
    return result


def _placed(problem: Problem, line: int) -> Problem:
    """A problem without a line of its own belongs to the statement's first line."""
    return (
        problem
        if problem.line is not None
        else Problem(problem.severity, problem.code, problem.message, line)
    )


def _read_parameters(cell: Cell, workflow: Workflow, ontology: Ontology) -> list[Problem]:
    content = read_cell(cell.source)
    problems = list(content.problems)
    by_name: dict[str, Parameter] = {}
    for assignment in content.assignments:
        earlier = by_name.get(assignment.name)
        if earlier is not None:
            problems.append(
                warning(
                    "duplicate-parameter",
                    f"{assignment.name} is assigned again; the last value counts",
                    assignment.line,
                )
            )
        position = earlier.position if earlier is not None else len(by_name)
        by_name[assignment.name], found = describe_parameter(assignment, position, ontology)
        problems += [_placed(p, assignment.line) for p in found]
    workflow.parameters = sorted(by_name.values(), key=lambda p: p.position)
    statements, found = parse_statements(content.standalone_comments, workflow_iri(workflow.key), ontology)
    workflow.statements = statements
    return problems + found


def _inject(cell: Cell, parameters: list[Parameter]) -> list[Problem]:
    """Papermill's injected values replace the defaults; the annotations stay."""
    content = read_cell(cell.source)
    problems = list(content.problems)
    by_name = {p.name: p for p in parameters}
    for assignment in content.assignments:
        target = by_name.get(assignment.name)
        if target is None:
            problems.append(
                warning(
                    "unknown-injected",
                    f"injected value for {assignment.name}, which is no parameter",
                    assignment.line,
                )
            )
        elif not isinstance(assignment.value, NotLiteral):
            target.default = assignment.value
    return problems
