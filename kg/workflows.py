"""The workflow read model: what `kg workflows`, `kg workflow show` and the JSON API return.

Each workflow is read from its own named graph in one query and assembled here, so the
CLI and the API give the same JSON whichever store backend is behind them.
"""

from __future__ import annotations

from collections import defaultdict

from pyoxigraph import Literal, NamedNode, Triple

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
_GRAPH = "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"


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
    matches = store.select(_FIND, {"key": _key_term(key)})
    if not matches:
        raise WorkflowNotFound(f"no workflow named {key!r}; `kg workflows` lists them")
    if len(matches) > 1:
        paths = ", ".join(sorted(m["wf"].value for m in matches))
        raise AmbiguousWorkflow(f"{len(matches)} workflows are named {key!r}; give one of: {paths}")
    return matches[0]["wf"], matches[0]["g"]


def workflow_graph_triples(store: Store, key: str) -> list[Triple]:
    """Every triple of the workflow's own graph, e.g. to check it against the shapes."""
    _, graph = find_workflow(store, key)
    return [Triple(r["s"], r["p"], r["o"]) for r in store.select(_GRAPH, {"g": graph})]


def _key_term(key: str) -> NamedNode | Literal:
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
    about: dict[NamedNode, dict[NamedNode, list]] = defaultdict(lambda: defaultdict(list))
    for row in store.select(_GRAPH, {"g": graph}):
        about[row["s"]][row["p"]].append(row["o"])
    wf = about[workflow]
    parameters = sorted((_parameter(about[p]) for p in wf[KG.hasParameter]), key=lambda p: p["position"])
    return {
        "name": _one(wf, SCHEMA.name),
        "iri": workflow.value,
        "notebook_path": _one(wf, KG.notebookPath),
        "repository": _one(wf, SCHEMA.codeRepository),
        "commit": _one(wf, KG.commit),
        "content_hash": _one(wf, KG.contentHash),
        "is_test": _one(wf, KG.isTest),
        "harvested_at": _one(wf, KG.harvestedAt),
        "version": _one(wf, ODA.version),
        "references": _all(wf, ODA.reference),
        "parameters": parameters,
        "outputs": sorted((_output(about[o]) for o in wf[KG.hasOutput]), key=lambda o: str(o["name"])),
        "resources": [
            _resource(r, about[r], required)
            for prop, required in ((ODA.usesRequiredResource, True), (ODA.usesOptionalResource, False))
            for r in wf[prop]
        ],
    }


def _one(props: dict, prop: NamedNode) -> object:
    values = props.get(prop)
    return to_python(values[0]) if values else None


def _all(props: dict, prop: NamedNode) -> list[object]:
    return [to_python(v) for v in props.get(prop, [])]


def _types(props: dict, own: NamedNode) -> list[str]:
    return sorted(curie(t.value) for t in props.get(RDF.type, []) if t != own)


def _parameter(props: dict) -> dict[str, object]:
    return {
        "name": _one(props, SCHEMA.name),
        "position": _one(props, KG.position),
        "types": _types(props, KG.Parameter),
        "datatype": _one(props, KG.datatype),
        "default": _one(props, SCHEMA.defaultValue),
        "lower_limit": _one(props, ODA.lower_limit),
        "upper_limit": _one(props, ODA.upper_limit),
        "allowed_values": _all(props, ODA.allowed_value),
        "unit": _one(props, ODA.unit),
        "format": _one(props, ODA.format),
        "common_name": _one(props, KG.commonParameter),
        "optional": bool(_one(props, KG.optional)),
        "label": _one(props, ODA.label),
        "description": _one(props, ODA.description),
        "group": _one(props, ODA.group),
        "annotation": _one(props, KG.annotation),
    }


def _output(props: dict) -> dict[str, object]:
    return {
        "name": _one(props, SCHEMA.name),
        "types": _types(props, KG.Output),
        "label": _one(props, ODA.label),
        "is_comment": bool(_one(props, KG.isComment)),
        "annotation": _one(props, KG.annotation),
    }


def _resource(node: NamedNode, props: dict, required: bool) -> dict[str, object]:
    return {
        "iri": node.value,
        "types": _types(props, ODA.Resource),
        "required": required,
        "env_var": _one(props, ODA.resourceBindingEnvVarName),
        "memory_per_process": _one(props, ODA.memory_per_process),
        "n_processes": _one(props, ODA.n_processes),
    }
