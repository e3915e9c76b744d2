"""Harvest: discover notebooks, describe each, write the clean ones, drop the deleted ones.

Each notebook's graph is replaced atomically, so a re-harvest never shows a half-written
workflow; a notebook with errors keeps whatever graph it had, so bad input loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from kg.iris import workflow_graph
from kg.namespaces import SPARQL_PROLOGUE
from kg.ontology import Ontology, default_ontology, ensure_loaded
from kg.store.base import Store

from .diagnostics import Diagnostic
from .notebook import NotebookResult, describe_notebook
from .rdf import graph_hash, stamped, workflow_quads
from .repository import Scope, Target, discover

Progress = Callable[[NotebookResult, int, int], None]
"""Called after each notebook with (result, done, total)."""

_BATCH = 1000

_GRAPH_HASHES = (
    SPARQL_PROLOGUE + "SELECT ?g ?hash WHERE { GRAPH ?g { ?wf a oda:Workflow ; kg:graphHash ?hash } }"
)
_GRAPHS_IN_SCOPE = (
    SPARQL_PROLOGUE
    + """SELECT DISTINCT ?g ?path WHERE {
  GRAPH ?g { ?wf a oda:Workflow ; schema:codeRepository ?repository ; kg:notebookPath ?path }
  FILTER(STRSTARTS(?path, ?prefix))
}"""
)


@dataclass
class HarvestReport:
    results: list[NotebookResult] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    """Problems outside any one notebook (a broken mmoda.yaml)."""
    removed: list[str] = field(default_factory=list)
    """Notebook paths whose graphs were dropped because the notebook is gone."""
    unchanged: list[str] = field(default_factory=list)
    """Notebooks whose stored description was already exactly this one: not rewritten."""

    @property
    def written(self) -> list[NotebookResult]:
        """Notebooks whose graph was (re)written by this harvest."""
        unchanged = set(self.unchanged)
        return [r for r in self.results if r.ok and r.file not in unchanged]

    @property
    def failed(self) -> bool:
        return bool(self.diagnostics) or any(r.errors for r in self.results)


def harvest(
    paths: Sequence[Path],
    store: Store,
    *,
    ontology: Ontology | None = None,
    progress: Progress | None = None,
) -> HarvestReport:
    """Harvest notebooks and directories into `store`; UsageError for a path that is not there."""
    ontology = ontology or default_ontology()
    ensure_loaded(store)
    discovery = discover(list(paths))
    report = HarvestReport(diagnostics=discovery.diagnostics)
    harvested_at = datetime.now(UTC).isoformat(timespec="seconds")
    stored = _graph_hashes(store)
    pending: dict[NamedNode, list[Quad]] = {}
    total = len(discovery.targets)
    for done, target in enumerate(discovery.targets, start=1):
        result = _describe(target, ontology)
        if result is not None:
            report.results.append(result)
            if result.ok and result.workflow:
                graph = workflow_graph(result.workflow.key)
                quads = workflow_quads(result.workflow)
                digest = graph_hash(quads)
                if stored.get(graph) == digest:
                    report.unchanged.append(result.file)
                else:
                    pending[graph] = stamped(result.workflow, quads, digest, harvested_at)
            if progress:
                progress(result, done, total)
        if len(pending) >= _BATCH:
            store.replace_graphs(pending)
            pending = {}
    if pending:
        store.replace_graphs(pending)
    report.removed = _drop_deleted(store, discovery.scopes, discovery.targets)
    return report


def _graph_hashes(store: Store) -> dict[NamedNode, str]:
    """The hash stamped in each stored workflow graph, to leave unchanged descriptions alone:
    rewriting a graph costs far more than describing its notebook again."""
    rows = store.select(_GRAPH_HASHES)
    return {row["g"]: row["hash"].value for row in rows}


def _describe(target: Target, ontology: Ontology) -> NotebookResult | None:
    """The notebook's description, or None for a papermill output met while walking a directory."""
    result = describe_notebook(
        target.path, _display(target.path), target.repository, target.notebook_path, ontology
    )
    if result.papermill_output and not target.explicit:
        return None
    return result


def _display(path: Path) -> str:
    """The path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _drop_deleted(store: Store, scopes: list[Scope], targets: list[Target]) -> list[str]:
    """Drop graphs of notebooks that were in a harvested scope before and are gone now."""
    present = {(t.repository.iri, t.notebook_path) for t in targets}
    stale: dict[NamedNode, str] = {}
    for scope in scopes:
        rows = store.select(
            _GRAPHS_IN_SCOPE,
            {"repository": NamedNode(scope.repository), "prefix": Literal(scope.prefix)},
        )
        for row in rows:
            path = row["path"].value
            if (scope.repository, path) not in present:
                stale[row["g"]] = path
    if stale:
        store.drop_graphs(stale)
    return sorted(set(stale.values()))
