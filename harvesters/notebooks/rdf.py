"""A workflow description as quads in its own named graph, following the data-model contract
(ARCHITECTURE §3).

Quads rather than triples: the store takes them as they are, and a large harvest writes
hundreds of thousands, so building each statement once matters.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from kg import __version__
from kg.iris import member_iri, workflow_graph, workflow_iri
from kg.namespaces import KG, ODA, PROV, RDF, SCHEMA, XSD

from .annotations import IRI, Value
from .model import Output, Parameter, Workflow

TRUE = Literal(True)
HARVESTER = Literal(f"oda-kg {__version__}")


def term(value: IRI | Value) -> NamedNode | Literal:
    """The RDF term of an annotation value or default: typed literals, JSON for structures."""
    if isinstance(value, IRI):
        return NamedNode(value.value)
    if isinstance(value, dict | list | tuple):
        return Literal(json.dumps(value), datatype=RDF.JSON)
    if isinstance(value, bool | int | float | str):
        return Literal(value)
    return Literal(repr(value))


@lru_cache(maxsize=4096)
def _node(iri: str) -> NamedNode:
    """Class, unit and datatype terms recur in every notebook; make each once."""
    return NamedNode(iri)


def workflow_quads(workflow: Workflow) -> list[Quad]:
    """Everything harvested about one notebook, in the workflow's named graph (the harvest's own
    bookkeeping, its time and the graph's hash, is added by `stamped`)."""
    g = workflow_graph(workflow.key)
    wf = workflow_iri(workflow.key)
    repository = workflow.repository
    quads = [
        Quad(wf, RDF.type, ODA.Workflow, g),
        Quad(wf, RDF.type, PROV.Plan, g),
        Quad(wf, RDF.type, SCHEMA.SoftwareSourceCode, g),
        Quad(wf, SCHEMA.name, Literal(workflow.name), g),
        Quad(wf, KG.notebookPath, Literal(workflow.notebook_path), g),
        Quad(wf, KG.localFile, NamedNode(Path(repository.root, workflow.notebook_path).as_uri()), g),
        Quad(wf, SCHEMA.codeRepository, NamedNode(repository.iri), g),
        Quad(wf, KG.contentHash, Literal(workflow.content_hash), g),
        Quad(wf, KG.isTest, Literal(workflow.is_test), g),
        Quad(wf, KG.harvester, HARVESTER, g),
    ]
    optional = (
        (KG.commit, repository.commit),
        (KG.helpText, repository.help_text),
        (KG.acknowledgements, repository.acknowledgements),
    )
    quads += [Quad(wf, p, Literal(v), g) for p, v in optional if v]
    for parameter in workflow.parameters:
        node = member_iri(wf, "parameter", parameter.name)
        quads.append(Quad(wf, KG.hasParameter, node, g))
        quads += parameter_quads(node, parameter, g)
    for output in workflow.outputs:
        node = member_iri(wf, "output", output.name)
        quads.append(Quad(wf, KG.hasOutput, node, g))
        quads += output_quads(node, output, g)
    quads += [Quad(t.subject, t.predicate, t.object, g) for t in workflow.statements]
    return quads


def graph_hash(quads: list[Quad]) -> str:
    """A digest of a description's statements: equal exactly when the graph would be equal."""
    return "sha256:" + hashlib.sha256("\n".join(map(str, quads)).encode()).hexdigest()


def stamped(workflow: Workflow, quads: list[Quad], digest: str, harvested_at: str) -> list[Quad]:
    """`quads` with the harvest's time and the graph's hash, as written to the store."""
    g, wf = workflow_graph(workflow.key), workflow_iri(workflow.key)
    return [
        *quads,
        Quad(wf, KG.graphHash, Literal(digest), g),
        Quad(wf, KG.harvestedAt, Literal(harvested_at, datatype=XSD.dateTime), g),
    ]


def _types(node: NamedNode, own: NamedNode, classes: list[str], g: NamedNode) -> list[Quad]:
    return [Quad(node, RDF.type, own, g)] + [Quad(node, RDF.type, _node(c), g) for c in classes]


def _extra(node: NamedNode, extra: list[tuple[str, list[IRI | Value]]], g: NamedNode) -> list[Quad]:
    return [Quad(node, _node(p), term(v), g) for p, values in extra for v in values if v is not None]


def parameter_quads(node: NamedNode, p: Parameter, g: NamedNode) -> list[Quad]:
    quads = _types(node, KG.Parameter, p.classes, g)
    quads += [Quad(node, SCHEMA.name, Literal(p.name), g), Quad(node, KG.position, Literal(p.position), g)]
    values = (
        (SCHEMA.defaultValue, p.default),
        (ODA.lower_limit, p.lower_limit),
        (ODA.upper_limit, p.upper_limit),
        (ODA.label, p.label),
        (ODA.description, p.description),
        (ODA.group, p.group),
        (KG.commonParameter, p.common_name),
        (KG.annotation, p.annotation),
        (KG.pythonType, p.python_type),
    )
    quads += [Quad(node, prop, term(v), g) for prop, v in values if v is not None]
    quads += [Quad(node, ODA.allowed_value, term(v), g) for v in p.allowed_values if v is not None]
    nodes = ((ODA.unit, p.unit), (ODA.format, p.format), (KG.datatype, p.datatype))
    quads += [Quad(node, prop, _node(v), g) for prop, v in nodes if v]
    if p.optional:
        quads.append(Quad(node, KG.optional, TRUE, g))
    return quads + _extra(node, p.extra, g)


def output_quads(node: NamedNode, o: Output, g: NamedNode) -> list[Quad]:
    quads = _types(node, KG.Output, o.classes, g)
    quads.append(Quad(node, SCHEMA.name, Literal(o.name), g))
    values = ((ODA.label, o.label), (ODA.description, o.description), (KG.annotation, o.annotation))
    quads += [Quad(node, prop, Literal(v), g) for prop, v in values if v is not None]
    if o.is_comment:
        quads.append(Quad(node, KG.isComment, TRUE, g))
    return quads + _extra(node, o.extra, g)
