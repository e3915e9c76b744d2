"""Testing notebooks: each one found under some paths executed with its own defaults, as a run.

A notebook passes when every cell runs (as in Astro Data Lab's notebook test runner and nbmake).
`test_*.ipynb` notebooks, which execute other notebooks and check what they wrote, are tested the
same way. The runs go through the machinery of `kg run --force` (planning, an executor, the
recorder), so each is in the graph with its status, timing, error and traceback, marked
`kg:isTestRun`; they are always executed, never answered from the run cache.

How a notebook becomes a run:

- The notebooks are harvested first (as `kg run NOTEBOOK` does), so a run points at its workflow.
  Any readable notebook is a workflow to harvest; one without a `parameters` cell takes no values.
- A notebook whose annotations harvest rejects (its workflow is not written) is still tested, as it
  is: no values given, no outputs captured, no resources bound; its run points at the IRI harvest
  gives it, which the workflow gets once the annotations are fixed.
- A notebook whose run cannot be planned (a required resource not configured, defaults its own
  annotations refuse) fails without executing; its run is recorded with the reason. A file that is
  not a readable notebook fails too, with harvest's message, and has no run: nothing could execute.
- The run's working directory (`<runs dir>/<run id>`) holds a link to each entry of the notebook's
  directory, so the notebook reads its neighbours as when it is run where it lies (test notebooks
  find the notebooks they execute as `Path.cwd() / "name.ipynb"`) while the files it creates stay in
  the run's directory. Not linked: hidden entries, the notebook itself, and the names the run
  machinery writes (`outputs/`, `kernel.log`). Writing over a linked file, or into a linked
  directory, writes in the notebook's directory, as running it there would.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path

from harvesters.notebooks import NotebookResult, harvest
from harvesters.notebooks.model import Workflow
from harvesters.notebooks.notebook import is_papermill_output, load_cells
from harvesters.notebooks.repository import is_skipped_directory
from kg.iris import workflow_iri
from kg.runs.cache import cache_key
from kg.runs.config import RunConfig
from kg.runs.environment import environment_fingerprint, kernel_environment
from kg.runs.executors import Executor
from kg.runs.layout import KERNEL_LOG, OUTPUTS_DIR
from kg.runs.model import Execution, Run, Status
from kg.runs.planning import Plan, plan_run
from kg.runs.records import write_run
from kg.runs.service import RunService, Tracked
from kg.store.base import Store

#: Entries of a notebook's directory never linked into its run's directory: the run writes them.
_RUN_ENTRIES = frozenset({KERNEL_LOG, OUTPUTS_DIR})


class NotebookSearchError(ValueError):
    """A path to search that is neither a directory nor a notebook."""


@dataclass(frozen=True)
class FoundNotebook:
    path: Path
    """The notebook file, resolved."""
    display: str
    """The path as the user gave it: the searched path joined with the notebook's path below it."""


@dataclass(frozen=True)
class Found:
    notebooks: list[FoundNotebook]
    excluded: list[str]
    """Notebooks left out by an exclude glob, as displayed."""


@dataclass(frozen=True)
class NotebookOutcome:
    """One notebook's test: PASS when its run completed."""

    notebook: str
    workflow: str
    status: Status
    run_id: str | None
    """None for a file that is not a readable notebook: it has no run."""
    duration_s: float | None
    """How long its cells ran; None when it was not executed."""
    error: str | None = None
    traceback: str | None = None
    executed_notebook: str | None = None

    @property
    def passed(self) -> bool:
        return self.status is Status.COMPLETED

    def as_json(self) -> dict[str, object]:
        return {
            "notebook": self.notebook,
            "result": "PASS" if self.passed else "FAIL",
            "status": self.status.value,
            "run": self.run_id,
            "workflow": self.workflow,
            "duration_s": self.duration_s,
            "error": self.error,
            "traceback": self.traceback,
            "executed_notebook": self.executed_notebook,
        }


def find_notebooks(paths: Sequence[Path], excludes: Sequence[str] = ()) -> Found:
    """The notebooks to test under `paths` (directories, searched recursively, or notebook files),
    each once, in path order then sorted.

    A directory's search skips hidden entries (`.ipynb_checkpoints`, `.git`, ...), the directories
    harvest skips (`venv`, `node_modules`, ...) and papermill output notebooks; a notebook named
    directly is taken as it is. An exclude glob (shell-style, `*` also matching `/`) leaves a
    notebook out when it matches its path relative to the searched path or its file name.
    """
    found: dict[Path, FoundNotebook] = {}
    excluded = []
    for given in paths:
        for path, relative in _candidates(given):
            display = str(given / relative) if given.is_dir() else str(given)
            if any(fnmatchcase(relative, glob) or fnmatchcase(path.name, glob) for glob in excludes):
                excluded.append(display)
            elif given.is_file() or not _is_output(path):
                found.setdefault(path.resolve(), FoundNotebook(path.resolve(), display))
    return Found(list(found.values()), excluded)


def _candidates(given: Path) -> Iterator[tuple[Path, str]]:
    """Each notebook file `given` stands for (papermill outputs included), with its path relative to
    `given` (`/`-separated)."""
    if given.is_file():
        if given.suffix != ".ipynb":
            raise NotebookSearchError(f"{given}: not a notebook (.ipynb)")
        yield given, given.name
        return
    if not given.is_dir():
        raise NotebookSearchError(f"{given}: no such file or directory")
    for path in sorted(given.glob("**/*.ipynb")):
        relative = path.relative_to(given)
        skipped = any(is_skipped_directory(part) for part in relative.parts)  # hidden files too
        if not skipped and path.is_file():
            yield path, relative.as_posix()


def _is_output(path: Path) -> bool:
    cells, metadata, _ = load_cells(path, str(path))
    return is_papermill_output(cells, metadata)


def run_notebook_tests(
    store: Store,
    notebooks: Sequence[FoundNotebook],
    config: RunConfig,
    executor: Executor,
    on_finished: Callable[[NotebookOutcome], None] = lambda outcome: None,
) -> list[NotebookOutcome]:
    """Harvest, plan and execute each notebook as a test run recorded in `store` (module docstring:
    how); `on_finished` is called as each one ends. The outcomes are in the order of `notebooks`."""
    harvested = harvest([n.path for n in notebooks], store).results
    service = RunService(store, config, executor)
    started = {n: _start(store, service, n, result) for n, result in zip(notebooks, harvested, strict=True)}
    notebook_of = {entry.run.id: n for n, entry in started.items() if isinstance(entry, Tracked)}

    def report(entry: Tracked | NotebookOutcome) -> None:
        if isinstance(entry, NotebookOutcome):
            on_finished(entry)
        elif entry.finished:
            on_finished(_outcome(notebook_of[entry.run.id], entry.run))

    for entry in started.values():
        report(entry)
    service.wait([entry for entry in started.values() if isinstance(entry, Tracked)], report)
    return [
        entry if isinstance(entry, NotebookOutcome) else _outcome(n, entry.run)
        for n, entry in started.items()
    ]


def _start(
    store: Store, service: RunService, notebook: FoundNotebook, result: NotebookResult
) -> Tracked | NotebookOutcome:
    """The notebook's test run, submitted (or recorded as failed when it cannot run); the outcome
    itself for a file that is not a readable notebook."""
    workflow = result.workflow
    if workflow is None:
        error = "; ".join(d.message for d in result.errors) or "not a readable notebook"
        return NotebookOutcome(notebook.display, notebook.path.stem, Status.FAILED, None, None, error)
    config = service.config
    try:
        if result.ok:
            plan = plan_run(store, workflow_iri(workflow.key).value, {}, config)
        else:  # no description to check values against, bind resources or name outputs by
            environment = kernel_environment(config.kernel_name)
            plan = Plan(_bare_run(workflow, notebook.path, environment), {"outputs": []}, {}, environment)
    except ValueError as refusal:
        run = _bare_run(workflow, notebook.path, kernel_environment(config.kernel_name))
        now = datetime.now(UTC)
        run.status = Status.FAILED
        run.execution = Execution(Status.FAILED, now, now, error=f"not run: {refusal}")
        write_run(store, run)
        return Tracked(run)
    plan.run.test = True
    _link_neighbours(notebook.path, config.runs_dir / plan.run.id)
    return service.start(plan, force=True)


def _bare_run(workflow: Workflow, notebook: Path, environment: dict[str, str]) -> Run:
    """A test run of the notebook as it is, given no values, for a notebook harvest rejected or
    whose run cannot be planned."""
    fingerprint = environment_fingerprint(environment)
    return Run(
        id=f"{workflow.name}-{secrets.token_hex(4)}",
        workflow=workflow_iri(workflow.key).value,
        workflow_name=workflow.name,
        notebook=str(notebook),
        content_hash=workflow.content_hash,
        values={},
        cache_key=cache_key(workflow.content_hash, {}, fingerprint),
        created_at=datetime.now(UTC),
        commit=workflow.repository.commit,
        test=True,
    )


def _link_neighbours(notebook: Path, run_dir: Path) -> None:
    """Link each entry of the notebook's directory into `run_dir`, but hidden ones, the notebook
    itself (its executed copy goes there) and the run's own files (module docstring: why)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for entry in notebook.parent.iterdir():
        if not entry.name.startswith(".") and entry.name != notebook.name and entry.name not in _RUN_ENTRIES:
            (run_dir / entry.name).symlink_to(entry)


def _outcome(notebook: FoundNotebook, run: Run) -> NotebookOutcome:
    execution = run.execution
    assert execution is not None, "a finished run has its execution"
    executed = execution.executed_notebook is not None
    return NotebookOutcome(
        notebook=notebook.display,
        workflow=run.workflow_name,
        status=run.status,
        run_id=run.id,
        duration_s=(execution.ended_at - execution.started_at).total_seconds() if executed else None,
        error=execution.error,
        traceback=execution.traceback,
        executed_notebook=execution.executed_notebook,
    )
