"""Planning a run: everything that must hold before a kernel starts.

The workflow is looked up in the graph, the notebook file checked to be the one that was
harvested, the values validated and completed, the resources bound, and the run keyed for the
cache. Each refusal is a `PlanningError` subclass with one message listing what is wrong, and
nothing has run. `kg run` also accepts a notebook file, harvested first (`harvested_key`); the
API does not.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from harvesters.notebooks.harvest import harvest
from harvesters.notebooks.notebook import content_hash, load_cells
from kg.iris import workflow_iri
from kg.runs.cache import cache_key
from kg.runs.config import RunConfig
from kg.runs.environment import environment_fingerprint, kernel_environment
from kg.runs.model import Run
from kg.runs.resources import bind_resources
from kg.runs.values import resolve_values
from kg.store.base import Store
from kg.workflows import show_workflow


class PlanningError(ValueError):
    """The run cannot start as asked (the CLI's exit status 2)."""


@dataclass
class Plan:
    run: Run
    workflow: dict[str, object]
    """The workflow's description (`show_workflow`)."""
    kernel_env: dict[str, str]
    """Resource credentials for the kernel's environment: never recorded anywhere."""
    environment: dict[str, str]
    """The kernel's software environment, part of the cache key and recorded with the run."""


def plan_run(store: Store, key: str, given: Mapping[str, object], config: RunConfig) -> Plan:
    """The planned run of the harvested workflow `key` names (its name, notebook path or IRI) with
    the `given` values; PlanningError (or its ValueError subclasses from values and resources)
    when it cannot run."""
    workflow = show_workflow(store, key)
    notebook = local_notebook(workflow)
    values = resolve_values(
        workflow, given, notebook_dir=notebook.parent, allow_file_urls=config.allow_file_urls
    )
    kernel_env = bind_resources(workflow["resources"], config.resources)  # type: ignore[arg-type]
    environment = kernel_environment(config.kernel_name)
    fingerprint = environment_fingerprint(environment)
    name, hash_ = str(workflow["name"]), str(workflow["content_hash"])
    run = Run(
        id=f"{name}-{secrets.token_hex(4)}",
        workflow=str(workflow["iri"]),
        workflow_name=name,
        notebook=str(notebook),
        content_hash=hash_,
        values=values,
        cache_key=cache_key(hash_, values, fingerprint),
        created_at=datetime.now(UTC),
        commit=workflow["commit"],  # type: ignore[arg-type]
        objects=_objects(workflow, values),
    )
    return Plan(run, workflow, kernel_env, environment)


def local_notebook(workflow: Mapping[str, object]) -> Path:
    """The harvested notebook file, checked to still hold the code that was harvested: a run
    records the content hash of what it executed, so a changed file must be harvested again."""
    local = workflow.get("local_file")
    if not isinstance(local, str) or not local.startswith("file:"):
        raise PlanningError(f"{workflow['name']} has no local notebook file here; harvest it on this machine")
    path = Path(unquote(urlsplit(local).path))
    cells, _, problems = load_cells(path, str(path))
    if problems:
        raise PlanningError(f"{workflow['name']}: {problems[0].message} ({path})")
    if content_hash(cells) != workflow["content_hash"]:
        raise PlanningError(
            f"{path} changed since it was harvested: run `kg harvest {path}` (or `kg run {path}`) first"
        )
    return path


def harvested_key(store: Store, target: str) -> str:
    """The workflow key `target` stands for: `target` itself, or, for a notebook file, the IRI of
    the workflow harvesting it (now) gives, so `kg run path/to/nb.ipynb` runs what is on disk."""
    path = Path(target)
    if path.suffix != ".ipynb" or not path.is_file():
        return target
    report = harvest([path], store)
    result = next((r for r in report.results if r.workflow is not None), None)
    errors = [str(d) for r in report.results for d in r.errors] + [str(d) for d in report.diagnostics]
    if result is None or not result.ok:
        raise PlanningError(
            f"{target} cannot be run: " + ("; ".join(errors) or "it is not a workflow notebook")
        )
    return workflow_iri(result.workflow.key).value


def _objects(workflow: Mapping[str, object], values: Mapping[str, object]) -> tuple[str, ...]:
    """The astrophysical objects the values name (parameters standing for `src_name`)."""
    names = [
        values.get(str(p["name"]))
        for p in workflow["parameters"]  # type: ignore[attr-defined]
        if p["common_name"] == "src_name"
    ]
    return tuple(name.strip() for name in names if isinstance(name, str) and name.strip())
