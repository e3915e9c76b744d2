"""The workflow read model: what `kg workflows`, `kg workflow show` and the JSON API return.

Each workflow is read from its own named graph in one query and assembled here, so the
CLI and the API give the same JSON whichever store backend is behind them.
"""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Triple

from kg.graphs import GRAPH_TRIPLES, every, one, read_graph
from kg.namespaces import KG, ODA, RDF, SCHEMA, SPARQL_PROLOGUE
from kg.queries import get_named_query
from kg.store.base import Store
from kg.terms import curie, to_python

_FIND = (
    SPARQL_PROLOGUE
    + """SELECT DISTINCT ?wf ?g WHERE {
  GRAPH ?g { ?wf a oda:Workflow ; schema:name ?name ; kg:notebookPath ?path }
  FILTER(?wf = ?key || ?name = ?key || ?path = ?key)
}"""
)


class WorkflowNotFound(LookupError):
    pass


class AmbiguousWorkflow(LookupError):
    pass


def list_workflows(store: Store) -> list[dict[str, object]]:
    """One summary per workflow, ordered by name: the `workflows` named query's rows."""
    rows = store.select(get_named_query("workflows").text)
    return [
        {
            "name": row["name"].value,
            "iri": row["workflow"].value,
            "notebook_path": row["notebook"].value,
            "repository": row["repository"].value,
            "is_test": to_python(row["isTest"]),
            "parameters": to_python(row["parameters"]),
            "outputs": to_python(row["outputs"]),
        }
        for row in rows
    ]


def find_workflow(store: Store, key: str) -> tuple[NamedNode, NamedNode]:
    """The workflow (and its graph) named by `key`: its name, notebook path or IRI."""
    matches = store.select(_FIND, {"key": key_term(key)})
    if not matches:
        raise WorkflowNotFound(f"no workflow named {key!r}; `kg workflows` lists them")
    if len(matches) > 1:
        paths = ", ".join(sorted(m["wf"].value for m in matches))
        raise AmbiguousWorkflow(f"{len(matches)} workflows are named {key!r}; give one of: {paths}")
    return matches[0]["wf"], matches[0]["g"]


def workflow_graph_triples(store: Store, key: str) -> list[Triple]:
    """Every triple of the workflow's own graph, e.g. to check it against the shapes."""
    _, graph = find_workflow(store, key)
    return [Triple(r["s"], r["p"], r["o"]) for r in store.select(GRAPH_TRIPLES, {"g": graph})]


def key_term(key: str) -> NamedNode | Literal:
    """An IRI when the key looks like one (and is valid), else a name or path."""
    if "://" in key:
        try:
            return NamedNode(key)
        except ValueError:
            pass  # not a valid IRI: no workflow can have it, so look it up as a name
    return Literal(key)


def show_workflow(store: Store, key: str) -> dict[str, object]:
    """The full description of one workflow (shape documented in the README)."""
    workflow, graph = find_workflow(store, key)
    about = read_graph(store, graph)
    wf = about[workflow]
    parameters = sorted((_parameter(about[p]) for p in wf[KG.hasParameter]), key=lambda p: p["position"])
    return {
        "name": one(wf, SCHEMA.name),
        "iri": workflow.value,
        "notebook_path": one(wf, KG.notebookPath),
        "repository": one(wf, SCHEMA.codeRepository),
        "local_file": one(wf, KG.localFile),
        "commit": one(wf, KG.commit),
        "content_hash": one(wf, KG.contentHash),
        "is_test": one(wf, KG.isTest),
        "harvested_at": one(wf, KG.harvestedAt),
        "version": one(wf, ODA.version),
        "references": every(wf, ODA.reference),
        "parameters": parameters,
        "outputs": sorted((_output(about[o]) for o in wf[KG.hasOutput]), key=lambda o: str(o["name"])),
        "resources": [
            _resource(r, about[r], required)
            for prop, required in ((ODA.usesRequiredResource, True), (ODA.usesOptionalResource, False))
            for r in wf[prop]
        ],
    }


def _types(props: dict, own: NamedNode) -> list[str]:
    return sorted(curie(t.value) for t in props.get(RDF.type, []) if t != own)


def _parameter(props: dict) -> dict[str, object]:
    return {
        "name": one(props, SCHEMA.name),
        "position": one(props, KG.position),
        "types": _types(props, KG.Parameter),
        "datatype": one(props, KG.datatype),
        "default": one(props, SCHEMA.defaultValue),
        "lower_limit": one(props, ODA.lower_limit),
        "upper_limit": one(props, ODA.upper_limit),
        "allowed_values": every(props, ODA.allowed_value),
        "unit": one(props, ODA.unit),
        "format": one(props, ODA.format),
        "common_name": one(props, KG.commonParameter),
        "optional": bool(one(props, KG.optional)),
        "label": one(props, ODA.label),
        "description": one(props, ODA.description),
        "group": one(props, ODA.group),
        "annotation": one(props, KG.annotation),
    }


def _output(props: dict) -> dict[str, object]:
    return {
        "name": one(props, SCHEMA.name),
        "types": _types(props, KG.Output),
        "label": one(props, ODA.label),
        "is_comment": bool(one(props, KG.isComment)),
        "annotation": one(props, KG.annotation),
    }


def _resource(node: NamedNode, props: dict, required: bool) -> dict[str, object]:
    return {
        "iri": node.value,
        "types": _types(props, ODA.Resource),
        "required": required,
        "env_var": one(props, ODA.resourceBindingEnvVarName),
        "memory_per_process": one(props, ODA.memory_per_process),
        "n_processes": one(props, ODA.n_processes),
    }
